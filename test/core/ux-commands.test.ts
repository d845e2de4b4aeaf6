// /roster, /status, /presence and the /omemo trust-UX subcommands against a recording fake core,
// and completion fed by the core's roster and fingerprints.
import { beforeEach, describe, expect, it } from 'vitest';
import { CommandEngine } from '../../src/commands/engine.js';
import type { XchatEvent } from '../../src/core/api.js';
import { FakeCore } from '../commands/fake-core.js';

let core: FakeCore;
let events: XchatEvent[];
let engine: CommandEngine;
const FP = 'ab'.repeat(32);

beforeEach(() => {
  core = new FakeCore();
  core.contacts = [
    { jid: 'bob@x.org', name: 'Bob', subscription: 'both', presence: [{ resource: 'phone', show: 'away', status: 'lunch' }] },
    { jid: 'carol@x.org', subscription: 'to', pending: true, presence: [] },
  ];
  core.fps = { 'bob@x.org': [FP] };
  events = [];
  // Like `xchat run`: the front end knows no JIDs of its own; the core's roster fills in.
  engine = new CommandEngine({ core, emit: (e) => events.push(e) });
});
const infos = () => events.filter((e) => e.event === 'info').map((e) => (e as { message: string }).message);
const errors = () => events.filter((e) => e.event === 'error').map((e) => (e as { message: string }).message);

describe('roster and presence commands', () => {
  it('/roster alone lists contacts with subscription and presence', async () => {
    expect((await engine.execute('/roster')).ok).toBe(true);
    expect(infos()[0]).toMatch(/bob@x\.org \(Bob\): away \(lunch\) \[phone\] \[subscription both\]/);
    expect(infos()[0]).toMatch(/carol@x\.org: offline \[subscription to, request pending\]/);
  });

  it('/roster add|remove|nick call the core; a nick keeps its spaces', async () => {
    await engine.execute('/roster add dave@x.org Dave  the Brave');
    await engine.execute('/roster add erin@x.org');
    await engine.execute('/roster nick bob@x.org Bobby');
    await engine.execute('/roster remove carol@x.org');
    expect(core.calls).toEqual([
      ['rosterAdd', 'dave@x.org', 'Dave  the Brave'],
      ['rosterAdd', 'erin@x.org', undefined],
      ['rosterNick', 'bob@x.org', 'Bobby'],
      ['rosterRemove', 'carol@x.org'],
    ]);
    const r = await engine.execute('/roster add not-a-jid');
    expect(r.usage).toBe(true);
    expect(errors().at(-1)).toMatch(/not a bare JID/);
  });

  it('/status sets show and message; rejects unknown shows', async () => {
    await engine.execute('/status away back at 2');
    await engine.execute('/status ONLINE');
    expect(core.calls).toEqual([['setStatus', 'away', 'back at 2'], ['setStatus', 'online', undefined]]);
    expect((await engine.execute('/status sleeping')).usage).toBe(true);
    expect(errors().at(-1)).toMatch(/invalid status "sleeping" \(online\|away\|dnd\|xa\)/);
  });

  it('/presence lists who is online', async () => {
    await engine.execute('/presence');
    expect(infos()[0]).toMatch(/presence \(1 of 2 online\)/);
  });
});

describe('/omemo trust-UX subcommands', () => {
  it('verify passes the URI (quoted or not) and shows the summary', async () => {
    const uri = `xmpp:bob@x.org?omemo-sid-1=${FP};omemo-sid-2=${FP}`;
    await engine.execute(`/omemo verify ${uri}`);
    await engine.execute(`/omemo verify "${uri}"`);
    expect(core.calls).toEqual([['omemoVerify', uri], ['omemoVerify', uri]]);
    expect(infos()).toEqual(['verify x@y: nothing', 'verify x@y: nothing']);
    expect((await engine.execute('/omemo verify')).usage).toBe(true);
  });

  it('qrcode shows the drawing with the URI under it; devices and clear_device_list call the core', async () => {
    await engine.execute('/omemo qrcode');
    expect(infos()[0]).toBe('QR\nxmpp:me@y');
    await engine.execute('/omemo devices bob@x.org');
    await engine.execute('/omemo devices');
    await engine.execute('/omemo clear_device_list');
    expect(core.calls.slice(1)).toEqual([['omemoDevices', 'bob@x.org'], ['omemoDevices', undefined], ['omemoClearDeviceList']]);
  });
});

describe('completion from the core', () => {
  it('completes JIDs from the roster and fingerprints of the JID being completed', () => {
    expect(engine.complete('/sub request ')).toEqual(['bob@x.org', 'carol@x.org']);
    expect(engine.complete('/roster remove c')).toEqual(['carol@x.org']);
    expect(engine.complete('/omemo trust bob@x.org ')).toEqual([FP]);
    expect(engine.complete('/omemo untrust carol@x.org ')).toEqual([]);
    expect(engine.complete('/status ')).toEqual(['online', 'away', 'dnd', 'xa']);
    expect(engine.complete('/roster ')).toEqual(['add', 'remove', 'nick']);
  });
});
