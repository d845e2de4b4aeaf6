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
    s.on((e) => void (e.event === 'warning' && events.push(e))); // the session's own warnings, as a front end shows them
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
    expect(changed).toContain('/connect alice@localhost tls trust');

    // /connect … tls trust: the certificate shown now is pinned (replacing the old pin, said
    // loudly) and the connection goes on; it is remembered for the next /connect.
    events.length = 0;
    await engine.execute(`${connect} tls trust`);
    expect(s.isConnected()).toBe(true);
    expect((await deps.accounts.get('alice@localhost'))?.tls_pin).toBe(cert.fingerprint256);
    const warned = events.find((e) => e.event === 'warning') as { message: string } | undefined;
    expect(warned?.message).toBe(`pinned the certificate ${cert.fingerprint256} of ${lab.host} for alice@localhost as asked (tls trust): from now on only this certificate is accepted for alice@localhost, replacing ${other}`);
    await s.disconnect();
    events.length = 0;
    await engine.execute(connect);
    expect(s.isConnected()).toBe(true);
    expect(events.filter((e) => e.event === 'warning' || e.event === 'error')).toEqual([]);
    await s.disconnect();
  }, 60_000);

  it('tls trust on a fresh account pins the self-signed certificate; an unreachable server pins nothing', async () => {
    const cert = new X509Certificate(readFileSync(lab.caFile));
    const deps = fakeDeps(() => createXmppPort(), { env: { XCHAT_PASSWORD: 'alice-pw' } });
    const s = new AccountSession(deps);
    const events: XchatEvent[] = [];
    const engine = new CommandEngine({ core: s, emit: (e) => events.push(e), knownJids: () => [], accountJids: () => [], password: async () => undefined });
    s.on((e) => void (e.event === 'warning' && events.push(e))); // the session's own warnings, as a front end shows them
    await engine.execute(`/connect alice@localhost server ${lab.host} port ${lab.c2sPort} tls trust`);
    expect(s.isConnected()).toBe(true);
    expect((await deps.accounts.get('alice@localhost'))?.tls_pin).toBe(cert.fingerprint256);
    expect(events.some((e) => e.event === 'warning' && e.message.startsWith(`pinned the certificate ${cert.fingerprint256}`))).toBe(true);
    await s.disconnect();

    const otherDeps = fakeDeps(() => createXmppPort(), { env: { XCHAT_PASSWORD: 'alice-pw' } });
    const other = new AccountSession(otherDeps);
    const otherEvents: XchatEvent[] = [];
    const e2 = new CommandEngine({ core: other, emit: (e) => otherEvents.push(e), knownJids: () => [], accountJids: () => [], password: async () => undefined });
    await e2.execute(`/connect alice@localhost server ${lab.host} port 1 tls trust`);
    expect(other.isConnected()).toBe(false);
    expect(otherEvents.some((e) => e.event === 'error')).toBe(true);
    expect(await otherDeps.accounts.get('alice@localhost')).toBeUndefined();
  }, 60_000);
});
