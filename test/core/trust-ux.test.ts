import { describe, expect, it } from 'vitest';
import { UnreachableDevices, notForThisDeviceText } from '../../src/core/trust-ux.js';
import type { RecipientReport } from '../../src/omemo/manager.js';

const FP = 'ab'.repeat(32);
const untrusted: RecipientReport = { jid: 'bob@x', deviceId: 22, fingerprint: FP, status: 'untrusted', reason: 'identity is undecided' };
const broken: RecipientReport = { jid: 'me@x', deviceId: 7, status: 'bundle-error', reason: 'bad-bundle: no prekeys' };

describe('pre-send warnings', () => {
  it('warns once per change, naming device ids, short fingerprints and the fixing command', () => {
    const u = new UnreachableDevices();
    const w = u.check('bob@x', [untrusted]);
    expect(w?.devices).toEqual([22]);
    expect(w?.message).toContain('bob@x device 22 (abababab)');
    expect(w?.message).toContain(`/omemo trust bob@x ${FP}`);
    expect(u.check('bob@x', [untrusted])).toBeUndefined(); // nothing changed
    const w2 = u.check('bob@x', [untrusted, broken]);
    expect(w2?.devices).toEqual([22, 7]);
    expect(w2?.message).toMatch(/me@x device 7: its keys could not be fetched \(bad-bundle: no prekeys\)/);
    expect(u.check('bob@x', [broken, untrusted])).toBeUndefined(); // order does not matter
    expect(u.check('bob@x', [])).toBeUndefined(); // all fine: nothing to say
    expect(u.check('bob@x', [untrusted])?.devices).toEqual([22]); // back again: a change
    expect(u.check('carol@x', [untrusted])).toBeDefined(); // per chat
  });

  it('explains a message not encrypted for this device without its content', () => {
    const t = notForThisDeviceText('bob@x/phone', 4242, { deviceId: 99, fingerprint: FP });
    expect(t).toContain('device 4242');
    expect(t).toContain('(99)');
    expect(t).toContain(FP);
    expect(t).toMatch(/does not know or does not trust this device/);
  });
});
