// A CoreApi that records every call, for command tests.
import type { ContactView, StatusShow } from '../../src/core/api.js';
import type { AccountSettings, ChatState, CoreApi, DeviceView, OmemoPolicy, TrustMode, XchatEvent } from '../../src/core/api.js';
import type { TrustState } from '../../src/omemo/store.js';

export type Call = [string, ...unknown[]];

export class FakeCore implements CoreApi {
  calls: Call[] = [];
  current?: string;
  connected = false;
  accounts: AccountSettings[] = [];
  devices: DeviceView[] = [];
  failWith?: Error;
  private listeners = new Set<(e: XchatEvent) => void>();

  private rec(name: string, ...args: unknown[]): void {
    this.calls.push([name, ...args]);
    if (this.failWith) throw this.failWith;
  }
  emit(e: XchatEvent): void {
    for (const l of this.listeners) l(e);
  }
  on(l: (e: XchatEvent) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  isConnected() {
    return this.connected;
  }
  async connect(opts: Parameters<CoreApi['connect']>[0]) {
    this.rec('connect', opts);
    this.connected = true;
  }
  async disconnect() {
    this.rec('disconnect');
  }
  async drain() {
    this.rec('drain');
  }
  currentChat() {
    return this.current;
  }
  openChat(jid: string) {
    this.rec('openChat', jid);
    this.current = jid;
  }
  async sendMessage(to: string, text: string, opts?: { plain?: boolean }) {
    if (opts) this.rec('sendMessage', to, text, opts);
    else this.rec('sendMessage', to, text);
  }
  async subscription(action: 'request' | 'allow' | 'deny', jid: string) {
    this.rec('subscription', action, jid);
  }
  async accountAdd(jid: string) {
    this.rec('accountAdd', jid);
  }
  async accountSet(jid: string, key: keyof AccountSettings, value: string) {
    this.rec('accountSet', jid, key, value);
  }
  async accountList() {
    this.rec('accountList');
    return this.accounts;
  }
  async accountRemove(jid: string) {
    this.rec('accountRemove', jid);
  }
  async omemoGen() {
    this.rec('omemoGen');
    return { deviceId: 1234, fingerprint: 'ab'.repeat(32), created: true };
  }
  async omemoFingerprint(jid?: string) {
    this.rec('omemoFingerprint', jid);
    return this.devices;
  }
  async omemoTrust(jid: string, fp: string) {
    this.rec('omemoTrust', jid, fp);
  }
  async omemoUntrust(jid: string, fp: string) {
    this.rec('omemoUntrust', jid, fp);
  }
  async omemoStart(jid?: string) {
    this.rec('omemoStart', jid);
  }
  async omemoEnd(jid?: string) {
    this.rec('omemoEnd', jid);
  }
  async omemoPolicy(p?: OmemoPolicy) {
    this.rec('omemoPolicy', p);
    return p ?? 'automatic';
  }
  async omemoTrustMode(m?: TrustMode) {
    this.rec('omemoTrustMode', m);
    return m ?? 'btbv';
  }
  states = true;
  typing(jid: string, state: ChatState) {
    this.rec('typing', jid, state);
  }
  chatStates(on?: boolean) {
    this.rec('chatStates', on);
    if (on !== undefined) this.states = on;
    return this.states;
  }
  async correctLast(text: string, jid?: string) {
    this.rec('correctLast', text, jid);
  }
  async retractLast(jid?: string) {
    this.rec('retractLast', jid);
  }
  contacts: ContactView[] = [];
  fps: Record<string, string[]> = {};
  roster() {
    return this.contacts;
  }
  async rosterAdd(jid: string, nick?: string) {
    this.rec('rosterAdd', jid, nick);
  }
  async rosterRemove(jid: string) {
    this.rec('rosterRemove', jid);
  }
  async rosterNick(jid: string, nick: string) {
    this.rec('rosterNick', jid, nick);
  }
  async setStatus(show: StatusShow, message?: string) {
    this.rec('setStatus', show, message);
  }
  presences() {
    return this.contacts;
  }
  knownJids() {
    return this.contacts.map((c) => c.jid);
  }
  knownFingerprints(jid: string) {
    return this.fps[jid] ?? [];
  }
  /** What contactTrust answers per bare JID (the title bar's label). */
  trustOf: Record<string, TrustState> = {};
  async contactTrust(jid: string) {
    return this.trustOf[jid];
  }
  async omemoDevices(jid?: string) {
    this.rec('omemoDevices', jid);
    return this.devices;
  }
  async omemoVerify(uri: string) {
    this.rec('omemoVerify', uri);
    return { jid: 'x@y', toVerify: [], alreadyVerified: [], mismatched: [], unknown: [], summary: 'verify x@y: nothing' };
  }
  async omemoQrCode() {
    this.rec('omemoQrCode');
    return { uri: 'xmpp:me@y', qr: 'QR' };
  }
  async omemoClearDeviceList() {
    this.rec('omemoClearDeviceList');
    return [];
  }
}
