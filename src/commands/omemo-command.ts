// The /omemo command and its subcommands (the trust UX ones come from ux-commands.ts).
import type { CommandDef } from './command-def.js';
import { displayFingerprint } from '../lib/fingerprint.js';
import { TRUST_MODES, OMEMO_POLICIES, info, jidAndFingerprint, completeTrust, describeDevice, jidsAt0, noMoreArgs, oneOf, requireJid } from './command-def.js';
import { OMEMO_UX_SUBCOMMANDS, OMEMO_UX_SYNOPSIS } from './ux-commands.js';

export const OMEMO_COMMAND: CommandDef = {
  name: '/omemo',
  synopsis: [
    '/omemo gen',
    '/omemo fingerprint [JID]',
    '/omemo trust [JID] FINGERPRINT',
    '/omemo untrust [JID] FINGERPRINT',
    '/omemo start [JID]',
    '/omemo end [JID]',
    '/omemo policy [manual|automatic|always]',
    '/omemo trustmode [manual|firstusage|blind|btbv]',
    ...OMEMO_UX_SYNOPSIS,
  ],
  description: 'OMEMO end-to-end encryption: keys, fingerprints, trust, and per-chat use.',
  args: [],
  examples: [
    '/omemo gen',
    '/omemo fingerprint bob@example.org',
    '/omemo trust bob@example.org 1f2e3d4c 5b6a7980 …',
    '/omemo start bob@example.org',
    '/omemo policy always',
  ],
  subcommands: [
    {
      name: 'gen',
      synopsis: ['/omemo gen'],
      description: 'Create this device\'s OMEMO identity and keys (done automatically on first connect).',
      args: [],
      examples: ['/omemo gen'],
      async handler(ctx, args) {
        noMoreArgs(args, 0);
        const r = await ctx.core.omemoGen();
        info(ctx, `${r.created ? 'OMEMO identity created' : 'OMEMO identity already exists'}: device ${r.deviceId}, fingerprint ${displayFingerprint(r.fingerprint)}`);
      },
    },
    {
      name: 'fingerprint',
      synopsis: ['/omemo fingerprint [JID]'],
      description: 'Show the fingerprints of JID\'s devices with their trust, or of all your own devices (this one marked) without JID.',
      args: [{ name: 'JID', description: 'A contact (default: your own account).' }],
      examples: ['/omemo fingerprint', '/omemo fingerprint bob@example.org'],
      complete: jidsAt0,
      async handler(ctx, args) {
        noMoreArgs(args, 1);
        const jid = args[0] === undefined ? undefined : requireJid(args[0]);
        const devices = await ctx.core.omemoFingerprint(jid);
        if (devices.length === 0) info(ctx, `no OMEMO devices known${jid ? ` for ${jid}` : ''}`);
        else info(ctx, ['fingerprints:', ...devices.map(describeDevice)].join('\n'));
      },
    },
    {
      name: 'trust',
      synopsis: ['/omemo trust [JID] FINGERPRINT'],
      description: 'Trust a device identity (compare the fingerprint with the contact first). Without JID: the current chat.',
      args: [
        { name: 'JID', description: 'The contact (default: the current chat).' },
        { name: 'FINGERPRINT', description: '64 hex digits; spaces, dashes and colons are ignored.' },
      ],
      examples: ['/omemo trust bob@example.org 1f2e3d4c5b6a7980…', '/omemo trust 1f2e3d4c 5b6a7980 …'],
      complete: completeTrust,
      async handler(ctx, args) {
        const { jid, fp } = jidAndFingerprint(ctx, args);
        await ctx.core.omemoTrust(jid, fp);
      },
    },
    {
      name: 'untrust',
      synopsis: ['/omemo untrust [JID] FINGERPRINT'],
      description: 'Distrust a device identity: nothing is encrypted for it, and its messages are marked untrusted.',
      args: [
        { name: 'JID', description: 'The contact (default: the current chat).' },
        { name: 'FINGERPRINT', description: '64 hex digits; spaces, dashes and colons are ignored.' },
      ],
      examples: ['/omemo untrust bob@example.org 1f2e3d4c5b6a7980…'],
      complete: completeTrust,
      async handler(ctx, args) {
        const { jid, fp } = jidAndFingerprint(ctx, args);
        await ctx.core.omemoUntrust(jid, fp);
      },
    },
    {
      name: 'start',
      synopsis: ['/omemo start [JID]'],
      description: 'Encrypt the chat with JID (default: the current chat) from now on; opens the chat.',
      args: [{ name: 'JID', description: 'The contact (default: the current chat).' }],
      examples: ['/omemo start bob@example.org'],
      complete: jidsAt0,
      async handler(ctx, args) {
        noMoreArgs(args, 1);
        await ctx.core.omemoStart(args[0] === undefined ? undefined : requireJid(args[0]));
      },
    },
    {
      name: 'end',
      synopsis: ['/omemo end [JID]'],
      description: 'Stop encrypting the chat with JID (default: the current chat): messages are sent in plaintext from now on.',
      args: [{ name: 'JID', description: 'The contact or room (default: the current chat).' }],
      examples: ['/omemo end', '/omemo end bob@example.org'],
      complete: jidsAt0,
      async handler(ctx, args) {
        noMoreArgs(args, 1);
        await ctx.core.omemoEnd(args[0] === undefined ? undefined : requireJid(args[0]));
      },
    },
    {
      name: 'policy',
      synopsis: ['/omemo policy [manual|automatic|always]'],
      description:
        'When chats use OMEMO: manual (only after /omemo start), automatic (when the contact has OMEMO devices), always (never send plaintext). Without a value: show it.',
      args: [{ name: 'POLICY', description: OMEMO_POLICIES.join('|') }],
      examples: ['/omemo policy always'],
      complete: (_ctx, a) => (a.length === 0 ? [...OMEMO_POLICIES] : []),
      async handler(ctx, args) {
        noMoreArgs(args, 1);
        const p = args[0] === undefined ? undefined : oneOf(args[0], OMEMO_POLICIES, 'policy');
        info(ctx, `OMEMO policy: ${await ctx.core.omemoPolicy(p)}`);
      },
    },
    {
      name: 'trustmode',
      synopsis: ['/omemo trustmode [manual|firstusage|blind|btbv]'],
      description:
        'How new devices are trusted: manual (never automatically), firstusage (trust the first devices seen), blind (trust all), btbv (blind trust before verification: trust new devices until one device of the contact is verified). Without a value: show it.',
      args: [{ name: 'MODE', description: TRUST_MODES.join('|') }],
      examples: ['/omemo trustmode btbv'],
      complete: (_ctx, a) => (a.length === 0 ? [...TRUST_MODES] : []),
      async handler(ctx, args) {
        noMoreArgs(args, 1);
        const m = args[0] === undefined ? undefined : oneOf(args[0], TRUST_MODES, 'trust mode');
        info(ctx, `OMEMO trust mode: ${await ctx.core.omemoTrustMode(m)}`);
      },
    },
    ...OMEMO_UX_SUBCOMMANDS,
  ],
};
