// @xmpp/xml's stream parser, as the stream-guard tests drive it directly.
declare module '@xmpp/xml/lib/Parser.js' {
  import { EventEmitter } from 'node:events';
  export default class Parser extends EventEmitter {
    parser: EventEmitter;
    write(data: string): void;
  }
}
