// Minimal typings for the untyped @xmpp/client 0.14 and ltx, covering what src/xmpp uses.
declare module '@xmpp/client' {
  import { EventEmitter } from 'node:events';

  export type XmlChild = Element | string | number | null | undefined | false;
  export interface Element {
    name: string;
    attrs: Record<string, string | undefined>;
    children: (Element | string)[];
    parent: Element | null;
    is(name: string, xmlns?: string): boolean;
    getName(): string;
    getNS(): string | undefined;
    getAttr(name: string): string | undefined;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    getText(): string;
    text(): string;
    c(name: string, attrs?: Record<string, string | number | undefined>): Element;
    t(text: string): Element;
    up(): Element;
    root(): Element;
    append(...nodes: XmlChild[]): Element;
    remove(el: Element | string, xmlns?: string): Element;
    toString(): string;
  }
  export interface XmlFn {
    (name: string, attrs?: Record<string, string | number | undefined | null> | null, ...children: (XmlChild | XmlChild[])[]): Element;
    Element: new (name: string, attrs?: Record<string, string | undefined>) => Element;
  }
  export const xml: XmlFn;

  export interface JID {
    local: string;
    domain: string;
    resource: string;
    bare(): JID;
    toString(): string;
    equals(other: JID): boolean;
  }
  export function jid(address: string): JID;

  export interface Middleware {
    use(fn: (ctx: { stanza: Element; entity: Client; [k: string]: unknown }, next: () => Promise<unknown>) => unknown): unknown;
  }
  export interface IqCallee {
    get(ns: string, name: string, handler: (ctx: { stanza: Element; element: Element }) => Element | true | Promise<Element | true>): void;
    set(ns: string, name: string, handler: (ctx: { stanza: Element; element: Element }) => Element | true | Promise<Element | true>): void;
  }
  export interface Client extends EventEmitter {
    jid: JID | null;
    status: string;
    options: Record<string, unknown> & { domain?: string };
    iqCallee: IqCallee;
    middleware: Middleware;
    reconnect: EventEmitter & { delay: number };
    start(): Promise<JID>;
    stop(): Promise<unknown>;
    send(el: Element): Promise<void>;
    isSecure(): boolean;
    /** The SASL mechanisms (saslmechanisms Factory): `use(name, Mechanism)` adds one. */
    saslFactory: { use(name: string, mech: new () => unknown): unknown };
    // Only the documented API: the internals src/xmpp relies on are typed in xmpp-client-private.ts.
  }
  export interface ClientOptions {
    service?: string;
    domain?: string;
    resource?: string;
    username?: string;
    password?: string;
    credentials?: (
      authenticate: (creds: { username: string; password: string }, mechanism: string) => Promise<void>,
      mechanisms: string[],
    ) => Promise<void>;
    timeout?: number;
  }
  export function client(options: ClientOptions): Client;
}

declare module 'ltx' {
  import type { Element } from '@xmpp/client';
  export function parse(xml: string): Element;
}
