import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AccountStore } from '../../src/store/account-store.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'xchat-acct-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('AccountStore', () => {
  it('adds, sets, lists, gets and removes accounts durably', async () => {
    const s = await AccountStore.open(root);
    await s.add('Alice@Example.org');
    await s.add('bob@example.org');
    await expect(s.add('alice@example.org')).rejects.toThrow(/already exists/);
    await s.set('alice@example.org', 'server', 'xmpp.example.org');
    await s.set('alice@example.org', 'port', '5223');
    await s.set('alice@example.org', 'tls', 'force');
    await s.set('alice@example.org', 'eval_password', 'pass show xmpp/alice');
    await s.set('alice@example.org', 'omemo_policy', 'always');
    await s.set('alice@example.org', 'trust_mode', 'firstusage');
    await s.remove('bob@example.org');
    const r = await AccountStore.open(root);
    expect(await r.list()).toEqual([
      { jid: 'alice@example.org', server: 'xmpp.example.org', port: 5223, tls: 'force', eval_password: 'pass show xmpp/alice', omemo_policy: 'always', trust_mode: 'firstusage' },
    ]);
    expect((await r.get('ALICE@example.org'))?.port).toBe(5223);
    expect(await r.get('bob@example.org')).toBeUndefined();
    expect(statSync(r.file).mode & 0o777).toBe(0o600);
  });

  it('rejects bad values and unknown accounts without changing anything', async () => {
    const s = await AccountStore.open(root);
    await s.add('a@b');
    await expect(s.set('a@b', 'port', '70000')).rejects.toThrow(/invalid port/);
    await expect(s.set('a@b', 'port', 'x')).rejects.toThrow(/invalid port/);
    await expect(s.set('a@b', 'tls', 'maybe')).rejects.toThrow(/force\|allow\|disable/);
    await expect(s.set('a@b', 'trust_mode', 'x')).rejects.toThrow(/btbv/);
    await expect(s.set('a@b', 'nope' as never, 'x')).rejects.toThrow(/unknown account setting/);
    await expect(s.set('c@d', 'server', 'h')).rejects.toThrow(/no account c@d/);
    await expect(s.remove('c@d')).rejects.toThrow(/no account/);
    await expect(s.add('not a jid')).rejects.toThrow(/invalid account JID/);
    expect(await (await AccountStore.open(root)).list()).toEqual([{ jid: 'a@b' }]);
  });

  it('keeps global settings and per-chat OMEMO choice', async () => {
    const s = await AccountStore.open(root);
    await s.setOmemoPolicy('always');
    await s.setTrustMode('manual');
    await s.setChatPolicy('Bob@x', 'omemo');
    await s.setChatPolicy('carol@x', 'none');
    await s.setChatPolicy('carol@x', undefined);
    const r = await AccountStore.open(root);
    expect(await r.getSettings()).toEqual({ omemo_policy: 'always', trust_mode: 'manual', chat_encryption: { 'bob@x': 'omemo' } });
    expect(await r.getChatPolicy('bob@x')).toBe('omemo');
    expect(await r.getChatPolicy('carol@x')).toBeUndefined();
    expect(await r.getChatPolicy('constructor')).toBeUndefined();
  });
});
