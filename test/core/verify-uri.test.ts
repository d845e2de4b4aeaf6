import { describe, expect, it } from 'vitest';
import { describeVerify, planVerify } from '../../src/core/verify-uri.js';
import type { DeviceView } from '../../src/core/api.js';
import { parseOmemoUri } from '../../src/omemo/uri.js';

const FP1 = '11'.repeat(32);
const FP2 = '22'.repeat(32);
const FP3 = '33'.repeat(32);
const EVIL = 'ee'.repeat(32);
const jid = 'bob@x.org';
const dev = (deviceId: number, fingerprint: string | undefined, trust?: DeviceView['trust']): DeviceView => ({
  jid, deviceId, active: true, own: false, ...(fingerprint ? { fingerprint } : {}), ...(trust ? { trust } : {}),
});

describe('/omemo verify planning', () => {
  it('one matching, one unknown, one mismatching fingerprint', () => {
    const known = [dev(1, FP1, 'trusted'), dev(2, FP2, 'undecided')];
    const uri = parseOmemoUri(`xmpp:${jid}?omemo-sid-1=${FP1};omemo-sid-2=${EVIL};omemo-sid-3=${FP3}`);
    const plan = planVerify(jid, uri.devices, known);
    expect(plan.toVerify).toEqual([{ deviceId: 1, fingerprint: FP1, knownAs: 1 }]);
    expect(plan.mismatched).toEqual([{ deviceId: 2, fingerprint: EVIL, known: FP2 }]);
    expect(plan.unknown).toEqual([{ deviceId: 3, fingerprint: FP3 }]);
    expect(plan.alreadyVerified).toEqual([]);

    const out = describeVerify(plan, true);
    expect(out.summary).toMatch(/1 device newly verified, 0 already verified, 1 MISMATCHED, 1 unknown/);
    expect(out.summary).toContain('device 1: 11111111 11111111');
    expect(out.warnings).toHaveLength(2);
    const [mis, unk] = out.warnings;
    expect(mis.devices).toEqual([2]);
    expect(mis.message).toMatch(/^MISMATCH/);
    expect(mis.message).toContain('22222222'); // what we know
    expect(mis.message).toContain('eeeeeeee'); // what the URI claims
    expect(mis.message).toMatch(/NOT trusted/);
    expect(unk.devices).toEqual([3]);
    expect(unk.message).toMatch(/unknown device/);
    expect(unk.message).toContain('33333333');
  });

  it('a verified key is not verified again; a known key under another id still counts; keyless devices are unknown', () => {
    const known = [dev(1, FP1, 'verified'), dev(2, FP2, 'untrusted'), dev(4, undefined)];
    const plan = planVerify(jid, [{ deviceId: 1, fingerprint: FP1 }, { deviceId: 9, fingerprint: FP2 }, { deviceId: 4, fingerprint: FP3 }], known);
    expect(plan.alreadyVerified).toEqual([{ deviceId: 1, fingerprint: FP1 }]);
    expect(plan.toVerify).toEqual([{ deviceId: 9, fingerprint: FP2, knownAs: 2 }]);
    expect(plan.unknown).toEqual([{ deviceId: 4, fingerprint: FP3 }]);
    expect(plan.mismatched).toEqual([]);
    const out = describeVerify(plan, false);
    expect(out.summary).toContain('known as device 2');
    expect(out.warnings[0].message).toMatch(/Connect/);
  });
});
