import { describe, it, expect, beforeEach } from 'vitest';
import { readFileSync } from 'node:fs';
import { CommandEngine } from '../../src/commands/engine.js';
import { COMMANDS, helpText } from '../../src/commands/table.js';
import { renderCommandsMarkdown, COMMANDS_MD } from '../../src/commands/gen-docs.js';
import type { XchatEvent } from '../../src/core/api.js';
import { FakeCore } from './fake-core.js';

const FP = '1f2e3d4c5b6a79801f2e3d4c5b6a79801f2e3d4c5b6a79801f2e3d4c5b6a7980';
const FP_SPACED = FP.match(/.{8}/g)!.join(' ');
const FP2 = 'ab'.repeat(32);

let core: FakeCore;
let events: XchatEvent[];
let engine: CommandEngine;
let passwords: Record<string, string>;

beforeEach(() => {
  core = new FakeCore();
  events = [];
  passwords = {};
  engine = new CommandEngine({
    core,
    emit: (e) => events.push(e),
    knownJids: () => ['bob@example.org', 'carol@example.org', 'bernard@example.org'],
    fingerprintsFor: (jid) => (jid === 'bob@example.org' ? [FP, FP2] : jid === 'carol@example.org' ? ['cc'.repeat(32)] : []),
    accountJids: () => ['alice@example.org'],
    password: async (jid) => passwords[jid],
  });
});

const errors = () => events.filter((e) => e.event === 'error').map((e) => (e as { message: string }).message);
const infos = () => events.filter((e) => e.event === 'info').map((e) => (e as { message: string }).message);

describe('commands call the right core action', () => {
  const cases: [string, unknown[][]][] = [
    ['/connect alice@example.org', [['connect', { jid: 'alice@example.org' }]]],
    [
      '/connect alice@localhost server 127.0.0.1 port 5223 tls disable',
      [['connect', { jid: 'alice@localhost', server: '127.0.0.1', port: 5223, tls: 'disable' }]],
    ],
    ['/disconnect', [['disconnect']]],
    ['/account add alice@example.org', [['accountAdd', 'alice@example.org']]],
    ['/account set alice@example.org port 5223', [['accountSet', 'alice@example.org', 'port', '5223']]],
    ['/account set alice@example.org eval_password pass show "xmpp/alice"', [['accountSet', 'alice@example.org', 'eval_password', 'pass show "xmpp/alice"']]],
    ['/account set alice@example.org eval_password "pass show x"', [['accountSet', 'alice@example.org', 'eval_password', 'pass show x']]],
    ['/account set alice@example.org omemo_policy always', [['accountSet', 'alice@example.org', 'omemo_policy', 'always']]],
    ['/account list', [['accountList']]],
    ['/account remove alice@example.org', [['accountRemove', 'alice@example.org']]],
    ['/msg bob@example.org', [['openChat', 'bob@example.org']]],
    ['/msg bob@example.org  Hello,  "Bob"!', [['openChat', 'bob@example.org'], ['sendMessage', 'bob@example.org', 'Hello,  "Bob"!']]],
    ['/sub request bob@example.org', [['subscription', 'request', 'bob@example.org']]],
    ['/sub allow bob@example.org', [['subscription', 'allow', 'bob@example.org']]],
    ['/sub deny bob@example.org', [['subscription', 'deny', 'bob@example.org']]],
    ['/omemo gen', [['omemoGen']]],
    ['/omemo fingerprint', [['omemoFingerprint', undefined]]],
    ['/omemo fingerprint bob@example.org', [['omemoFingerprint', 'bob@example.org']]],
    [`/omemo trust bob@example.org ${FP}`, [['omemoTrust', 'bob@example.org', FP]]],
    [`/omemo trust bob@example.org ${FP_SPACED}`, [['omemoTrust', 'bob@example.org', FP]]],
    [`/omemo untrust bob@example.org ${FP_SPACED.toUpperCase().replace(/ /g, '-')}`, [['omemoUntrust', 'bob@example.org', FP]]],
    [`/omemo trust bob@example.org 05${FP}`, [['omemoTrust', 'bob@example.org', FP]]],
    ['/omemo start bob@example.org', [['omemoStart', 'bob@example.org']]],
    ['/omemo start', [['omemoStart', undefined]]],
    ['/omemo end', [['omemoEnd', undefined]]],
    ['/omemo policy always', [['omemoPolicy', 'always']]],
    ['/omemo policy', [['omemoPolicy', undefined]]],
    ['/omemo trustmode firstusage', [['omemoTrustMode', 'firstusage']]],
    ['/omemo trustmode', [['omemoTrustMode', undefined]]],
  ];
  for (const [line, calls] of cases) {
    it(line, async () => {
      const r = await engine.execute(line);
      expect(errors()).toEqual([]);
      expect(r).toEqual({ ok: true });
      expect(core.calls).toEqual(calls);
    });
  }

  it('/connect passes the front end password', async () => {
    passwords['alice@example.org'] = 's3cret';
    await engine.execute('/connect alice@example.org');
    expect(core.calls).toEqual([['connect', { jid: 'alice@example.org', password: 's3cret' }]]);
  });

  it('/omemo trust FP without JID uses the current chat', async () => {
    core.current = 'carol@example.org';
    expect(await engine.execute(`/omemo untrust ${FP_SPACED}`)).toEqual({ ok: true });
    expect(core.calls).toEqual([['omemoUntrust', 'carol@example.org', FP]]);
  });

  it('/sub without JID uses the current chat', async () => {
    core.current = 'carol@example.org';
    await engine.execute('/sub allow');
    expect(core.calls).toEqual([['subscription', 'allow', 'carol@example.org']]);
  });

  it('plain lines go to the current chat', async () => {
    await engine.execute('/msg bob@example.org');
    expect(await engine.execute('  hi there  ')).toEqual({ ok: true });
    expect(core.calls.at(-1)).toEqual(['sendMessage', 'bob@example.org', '  hi there  ']);
  });

  it('a plain line with no chat is an error', async () => {
    const r = await engine.execute('hello');
    expect(r.ok).toBe(false);
    expect(errors()).toEqual(['no chat window: use /msg JID first']);
    expect(core.calls).toEqual([]);
  });

  it('/quit asks to quit without calling core', async () => {
    expect(await engine.execute('/quit')).toEqual({ ok: true, quit: true });
    expect(core.calls).toEqual([]);
  });

  it('empty lines do nothing', async () => {
    expect(await engine.execute('   ')).toEqual({ ok: true });
    expect(core.calls).toEqual([]);
    expect(events).toEqual([]);
  });

  it('core failures become error events (not usage errors)', async () => {
    core.failWith = new Error('no trusted devices for bob@example.org');
    const r = await engine.execute('/msg bob@example.org hi');
    expect(r).toEqual({ ok: false });
    expect(errors()).toEqual(['no trusted devices for bob@example.org']);
  });

  it('list outputs come back as info events', async () => {
    core.accounts = [{ jid: 'alice@example.org', port: 5223, tls: 'force' }];
    core.devices = [{ jid: 'bob@example.org', deviceId: 42, fingerprint: FP, trust: 'trusted', active: true, own: false }];
    await engine.execute('/account list');
    await engine.execute('/omemo fingerprint bob@example.org');
    await engine.execute('/omemo gen');
    expect(infos()[0]).toContain('alice@example.org port=5223 tls=force');
    expect(infos()[1]).toContain(`bob@example.org device 42: ${FP_SPACED} (trusted, active)`);
    expect(infos()[2]).toMatch(/created: device 1234/);
  });
});

describe('/connect without a JID (issue 9: Profanity\'s account habits)', () => {
  it('with nothing saved: a usage error naming what is missing, no connection', async () => {
    const r = await engine.execute('/connect');
    expect(r).toEqual({ ok: false, usage: true });
    expect(errors()[0]).toMatch(/missing JID \(no account saved yet: \/connect JID\)\nusage: \/connect JID \[server HOST\]/);
    expect(core.calls.filter((c) => c[0] === 'connect')).toEqual([]);
  });

  it('with a saved account: connects it', async () => {
    core.accounts = [{ jid: 'alice@example.org' }, { jid: 'bob@example.org' }];
    expect(await engine.execute('/connect')).toEqual({ ok: true });
    expect(core.calls.filter((c) => c[0] === 'connect').map((c) => (c[1] as { jid: string }).jid)).toEqual(['alice@example.org']);
  });
});

describe('/wait', () => {
  it('waits for the catch-up after connecting, then for pending sends', async () => {
    let caughtUp = false;
    (core as unknown as { caughtUp: () => Promise<void> }).caughtUp = async () => {
      caughtUp = true;
    };
    expect(await engine.execute('/wait')).toEqual({ ok: true });
    expect(caughtUp).toBe(true);
    expect(core.calls.map((c) => c[0])).toEqual(['drain']);
  });
});

describe('usage errors', () => {
  const bad: [string, RegExp][] = [
    ['/foo', /^Unknown command: \/foo \(try \/help\)$/],
    ['/connect alice@x port abc', /invalid port "abc"\nusage: \/connect/],
    ['/connect alice@x tls maybe', /invalid tls "maybe" \(force\|allow\|disable\|trust\)/],
    ['/connect alice@x colour blue', /unknown option "colour"/],
    ['/connect alice@x server', /missing value for server/],
    ['/disconnect now', /unexpected argument "now"\nusage: \/disconnect/],
    ['/account', /missing subcommand\nusage: \/account add JID\n {7}\/account set JID KEY VALUE/],
    ['/account frobnicate', /unknown subcommand "frobnicate"/],
    ['/account set alice@x colour red', /invalid KEY "colour" \(server\|port\|tls\|eval_password\|omemo_policy\|trust_mode\|max_download\|tls_pin\|proxy\)\nusage: \/account set JID KEY VALUE$/],
    ['/account set alice@x tls sometimes', /invalid tls/],
    ['/account set alice@x port', /missing value for port/],
    ['/msg', /missing JID\nusage: \/msg JID \[TEXT\]/],
    ['/msg "not a jid" hi', /is not a JID/],
    ['/sub maybe bob@x', /unknown subcommand "maybe"\nusage: \/sub request\|allow\|deny \[JID\]/],
    ['/sub request', /missing JID \(no current chat\)/],
    ['/omemo trust bob@x', /missing fingerprint\nusage: \/omemo trust \[JID\] FINGERPRINT$/],
    ['/omemo trust bob@x 12zz', /not a fingerprint/],
    ['/omemo trust bob@x abcd', /64 hex digits, got 4/],
    [`/omemo trust ${FP}`, /no current chat: name the JID/],
    ['/omemo policy sometimes', /invalid policy "sometimes" \(manual\|automatic\|always\)/],
    ['/omemo trustmode lax', /invalid trust mode "lax"/],
    ['/help nothing', /no command nothing/],
    ['/msg "bob', /unterminated quote/],
  ];
  for (const [line, re] of bad) {
    it(line, async () => {
      const r = await engine.execute(line);
      expect(r).toEqual({ ok: false, usage: true });
      expect(errors()).toHaveLength(1);
      expect(errors()[0]).toMatch(re);
      expect(core.calls.filter((c) => c[0] !== 'openChat')).toEqual([]);
    });
  }
});

describe('help', () => {
  it('/help lists every command from the table', async () => {
    await engine.execute('/help');
    for (const c of COMMANDS) expect(infos()[0]).toContain(c.name);
  });

  it('/help CMD and /help CMD SUB print the table text', async () => {
    await engine.execute('/help omemo');
    await engine.execute('/help /connect');
    await engine.execute('/help omemo trust');
    const omemo = COMMANDS.find((c) => c.name === '/omemo')!;
    expect(infos()[0]).toBe(helpText(omemo));
    expect(infos()[0]).toContain('/omemo trustmode [manual|firstusage|blind|btbv]');
    expect(infos()[1]).toBe(helpText(COMMANDS.find((c) => c.name === '/connect')!));
    expect(infos()[2]).toBe(helpText(omemo.subcommands!.find((s) => s.name === 'trust')!));
  });
});

describe('completion', () => {
  it('completes command names', () => {
    expect(engine.complete('/')).toEqual(COMMANDS.map((c) => c.name));
    expect(engine.complete('/o')).toEqual(['/omemo', '/occupants']);
    expect(engine.complete('/x')).toEqual([]);
    expect(engine.complete('hello')).toEqual([]);
  });

  it('completes subcommands', () => {
    expect(engine.complete('/omemo ')).toEqual(['gen', 'fingerprint', 'trust', 'untrust', 'start', 'end', 'policy', 'trustmode', 'devices', 'verify', 'qrcode', 'clear_device_list']);
    expect(engine.complete('/omemo tr')).toEqual(['trust', 'trustmode']);
    expect(engine.complete('/account ')).toEqual(['add', 'set', 'list', 'remove']);
    expect(engine.complete('/sub a')).toEqual(['allow']);
  });

  it('completes JIDs', () => {
    expect(engine.complete('/msg b')).toEqual(['bob@example.org', 'bernard@example.org']);
    expect(engine.complete('/sub allow c')).toEqual(['carol@example.org']);
    expect(engine.complete('/omemo start bo')).toEqual(['bob@example.org']);
    expect(engine.complete('/connect ')).toEqual(['alice@example.org', 'bob@example.org', 'carol@example.org', 'bernard@example.org']);
  });

  it('completes fingerprints of the named JID, or of the current chat', () => {
    expect(engine.complete('/omemo trust bob@example.org ')).toEqual([FP, FP2]);
    expect(engine.complete('/omemo untrust bob@example.org 1f')).toEqual([FP]);
    core.current = 'carol@example.org';
    expect(engine.complete('/omemo trust c')).toEqual(['cc'.repeat(32), 'carol@example.org']);
  });

  it('completes values and reports where the word starts', () => {
    expect(engine.complete('/omemo policy a')).toEqual(['automatic', 'always']);
    expect(engine.complete('/account set alice@example.org tl')).toEqual(['tls', 'tls_pin']);
    expect(engine.complete('/account set alice@example.org tls ')).toEqual(['force', 'allow', 'disable']);
    expect(engine.complete('/connect alice@example.org tls a')).toEqual(['allow']);
    expect(engine.complete('/connect alice@example.org s')).toEqual(['server']);
    expect(engine.complete('/help om')).toEqual(['omemo']);
    expect(engine.completeAt('/msg bo and more', 7)).toEqual({ start: 5, candidates: ['bob@example.org'] });
  });
});

describe('docs/commands.md', () => {
  it('is generated from the table and up to date (run `npm run docs`)', () => {
    const md = renderCommandsMarkdown();
    for (const c of COMMANDS) for (const s of c.synopsis) expect(md).toContain(s);
    expect(readFileSync(COMMANDS_MD, 'utf8')).toBe(md);
  });
});
