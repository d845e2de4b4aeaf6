// Live: a server certificate no CA vouches for (the lab's self-signed one, without the lab CA).
// The refusal names its SHA-256 fingerprint, subject and expiry and the command that accepts it;
// after /tls trust the account connects; a different certificate than the pinned one is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { startProsody, type Lab } from '../lab/prosody.js';
import { AccountSession } from '../../src/core/account-session.js';
import { createXmppPort } from '../../src/core/xmpp-port.js';
import { CommandEngine } from '../../src/commands/engine.js';
import type { XchatEvent } from '../../src/core/api.js';
import { fakeDeps } from '../helpers/fake-xmpp.js';

const canRun = existsSync('/usr/bin/prosody');
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody (scripts/install-test-deps)');

describe.skipIf(!canRun)('pinned server certificates (live)', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startProsody({ name: 'tls-pin' });
    await lab.register('alice', 'alice-pw');
  }, 60_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('untrusted: refused with fingerprint, subject, expiry and /tls trust; trusted by pin; a changed one refused', async () => {
    const cert = new X509Certificate(readFileSync(lab.caFile));
    const deps = fakeDeps(() => createXmppPort(), { env: { XCHAT_PASSWORD: 'alice-pw' } });
    const s = new AccountSession(deps);
    const events: XchatEvent[] = [];
    const engine = new CommandEngine({ core: s, emit: (e) => events.push(e), knownJids: () => [], accountJids: () => [], password: async () => undefined });
    const connect = `/connect alice@localhost server ${lab.host} port ${lab.c2sPort}`;

    await engine.execute(connect);
    const refusal = events.find((e) => e.event === 'error');
    expect(refusal).toBeDefined();
    const text = (refusal as { message: string }).message;
    expect(text).toContain(cert.fingerprint256);
    expect(text).toContain('subject CN=localhost');
    expect(text).toContain(`valid until ${cert.validTo}`);
    expect(text).toContain(`/tls trust ${cert.fingerprint256}`);
    expect(s.isConnected()).toBe(false);

    await engine.execute(`/tls trust ${cert.fingerprint256}`);
    expect((await deps.accounts.get('alice@localhost'))?.tls_pin).toBe(cert.fingerprint256);
    await engine.execute(connect);
    expect(s.isConnected()).toBe(true);
    await s.disconnect();

    const other = 'AB:'.repeat(31) + 'AB';
    await deps.accounts.set('alice@localhost', 'tls_pin', other);
    events.length = 0;
    await engine.execute(connect);
    expect(s.isConnected()).toBe(false);
    const changed = (events.find((e) => e.event === 'error') as { message: string } | undefined)?.message ?? '';
    expect(changed).toMatch(/the TLS certificate of localhost CHANGED: the pinned one is AB:AB/);
    expect(changed).toContain(`the server now shows ${cert.fingerprint256}`);
  }, 60_000);
});
