// SPDX-License-Identifier: MIT
// AsyncConnection: a connection of an AsyncManager. mongoose's connection lives on
// the poll task; this object keeps what the poll task last reported (flags,
// addresses) and what arrived for JavaScript (raw bytes, WebSocket and MQTT
// messages), and turns every action into a command.
import * as native from "mongoose/native-async";
// Named: XS looks a namespace's property up on every call, and serve replies per request.
import { reply as nativeReply } from "mongoose/native-async";
import { MG_EV_CLOSE, MG_EV_MQTT_MSG, MG_EV_READ, MG_EV_WS_MSG, WEBSOCKET_OP_CLOSE, WEBSOCKET_OP_TEXT } from "mongoose/constants";
import { chunked, headerLines, type Headers } from "mongoose/headers";
import { WsMessage, MqttMessage, type HttpMessage, type MqttProperty } from "mongoose/messages";
import type { Address, EventData } from "mongoose/connection";
import { ConnectionSurface } from "mongoose/connection-surface";
import { concat, wsClosePayload, type Bytes } from "mongoose/bytes";
import { deferred, ignore, Inbox, type Deferred } from "mongoose/deferred";
import type { AsyncManager, Outcome } from "mongoose/async-manager";

export type AsyncHandler = (conn: AsyncConnection, ev: number, data: EventData) => void | Promise<void>;
/** @internal a handler that reports and answers whatever its HTTP_MSG work throws or rejects with itself (serve's). */
export type CatchingHandler = ((conn: AsyncConnection, ev: number, data: EventData, id?: number) => void | Promise<void>) &
  { readonly _catches: true };

// Ours, above the flag bits (XM_MG_FLAG_*, mongoose/wire): the connection has closed.
const GONE = 1 << 16;

function packetId(outcome: Outcome): number {
  return outcome.number;
}

// Apart from _reply: an arrow there would make XS give status, body and lines
// closures on every call, serve's unawaited answers included.
function awaitedReply(am: AsyncManager, id: number, status: number, body: Bytes, lines: string): Promise<void> {
  return am._command((native_, request) => nativeReply(native_, id, status, body, lines, request));
}

function parseAddress(text: string | undefined): Address | undefined {
  if (!text) return undefined;
  const colon = text.lastIndexOf(":");
  const host = text.slice(0, colon);
  const ipv6 = host.startsWith("[");
  return { address: ipv6 ? host.slice(1, -1) : host, port: Number(text.slice(colon + 1)), family: ipv6 ? "IPv6" : "IPv4" };
}

/** What only some connections need, kept apart so that an idle connection stays small. */
interface ConnectionExtra {
  userdata?: unknown;
  closed?: Deferred<void>;
  inbox?: Uint8Array[];
  /** WebSocket messages, kept from the first on. */
  ws?: Inbox<WsMessage>;
  /** MQTT messages, kept while an mqttMessages() iterator is open. */
  mqtt?: Inbox<MqttMessage>;
}

/**
 * A connection of an AsyncManager. Its methods queue commands for the poll task and
 * are safe from handlers and from any async code; the promises they return settle
 * when the poll task has done the work (send: when the bytes were written to the
 * socket), and reject with "connection N is closed" when it is gone.
 */
export class AsyncConnection extends ConnectionSurface<Promise<void>, Promise<number>> {
  handler: AsyncHandler | undefined;
  readonly #am: AsyncManager;
  readonly #id: number;
  /**
   * @internal the poll task's flags, and GONE once the connection has closed. Not
   * private: the AsyncManager's dispatch sets it itself for an HTTP_MSG, the most
   * common event, which costs XS a fifth of an _event call.
   */
  _bits = 0;
  /** "local|remote" as the poll task printed them, parsed when asked for. */
  #addrs = "";
  // The rest is created on first use: most connections never need it, and an idle
  // connection should cost a few hundred bytes of XS heap, not kilobytes.
  #extra: ConnectionExtra | undefined;
  /** Bumped by every response or send: tells whether a throwing handler answered. */
  _sends = 0;

  /** @internal */
  constructor(am: AsyncManager, id: number) {
    super();
    this.#am = am;
    this.#id = id;
  }

  // No private accessors for these: XS gives each instance of a class with private
  // methods or accessors an extra slot, and every connection counts.

  /**
   * @internal orders the responses of pipelined requests served by serve() (undefined
   * when none is pending). A field, not in #extra behind an accessor: serve reads it
   * per request, and XS reads a field for a fifth of a getter call (and a property
   * missing from the instance, looked up along the prototype chain, for nearly a
   * getter's cost). One slot more per connection.
   */
  _serving: Promise<void> | undefined = undefined;

  /** Whatever the application wants to keep with the connection. */
  get userdata(): unknown { return this.#extra?.userdata; }
  set userdata(value: unknown) { (this.#extra ??= {}).userdata = value; }
  get id(): number { return this.#id; }
  setHandler(handler: AsyncHandler | undefined): void { this.handler = handler; }
  /** Resolves once mongoose has closed the connection. */
  get closed(): Promise<void> {
    const more = (this.#extra ??= {});
    if (!more.closed) {
      more.closed = deferred<void>();
      if (this.isClosed) more.closed.resolve();
    }
    return more.closed.promise;
  }
  get isClosed(): boolean { return (this._bits & GONE) !== 0; }
  protected override _flags(): number { return this._bits; }
  override get isClosing(): boolean { return this.isClosed || super.isClosing; }
  get localAddr(): Address | undefined { return parseAddress(this.#addrs.split("|")[0]); }
  get remoteAddr(): Address | undefined { return parseAddress(this.#addrs.split("|")[1]); }

  /** Received bytes of a raw TCP/UDP connection not yet taken: takes up to max (all by default). */
  recv(max = -1): Uint8Array {
    const all = concat(this.#extra?.inbox ?? []);
    const n = max < 0 || max > all.length ? all.length : max;
    if (this.#extra) this.#extra.inbox = n < all.length ? [all.subarray(n)] : undefined;
    return all.subarray(0, n);
  }
  get recvLen(): number {
    return (this.#extra?.inbox ?? []).reduce((sum, chunk) => sum + chunk.length, 0);
  }

  /** Sends bytes; resolves once they were written to the socket (back-pressure for loops). */
  send(data: Bytes): Promise<void> {
    this._sends++;
    return this.#am._command((am, request) => native.send(am, this.#id, data, request, -1));
  }
  /** A complete HTTP response, binary-safe; resolves once written. */
  override reply(status: number, body: Bytes = "", headers?: Headers): Promise<void> {
    return this._reply(status, body, headers, true)!;
  }
  /**
   * @internal unawaited (serve): no promise, and no completion event crosses back,
   * nor anything once the manager is closing. Throws when it cannot queue.
   */
  _reply(status: number, body: Bytes, headers: Headers | undefined, awaited: boolean): Promise<void> | undefined {
    this._sends++;
    if (!headers && !awaited) {
      // serve's answer (serve.ts sends a string's itself, the same way), as cheap as
      // can be: four arguments, and nothing once the manager is closing.
      const am = this.#am._live;
      if (am) nativeReply(am, this.#id, status, body);
      return undefined;
    }
    const lines = headers ? headerLines(headers, "content-length") : "";
    if (headers && chunked(headers)) {
      // The head, then the body (if any) as the first chunk: commands run in order,
      // so the chunk's completion is the reply's.
      nativeReply(this.#am._native, this.#id, status, "", lines, 0, true);
      const empty = typeof body === "string" ? body === "" : body.byteLength === 0;
      if (awaited) return empty ? Promise.resolve() : this.httpChunk(body);
      if (!empty) native.chunk(this.#am._native, this.#id, body, 0);
      return undefined;
    }
    if (awaited) return awaitedReply(this.#am, this.#id, status, body, lines);
    nativeReply(this.#am._native, this.#id, status, body, lines);
    return undefined;
  }
  override httpChunk(data: Bytes): Promise<void> {
    this._sends++;
    return this.#am._command((am, request) => native.chunk(am, this.#id, data, request));
  }
  wsUpgrade(msg: HttpMessage, headers?: Headers): Promise<void> {
    this._sends++;
    const lines = headerLines(headers);
    return this.#am._command((am, request) => native.wsUpgrade(am, this.#id, msg, lines, request));
  }
  wsSend(data: Bytes, op: number = WEBSOCKET_OP_TEXT): Promise<void> {
    this._sends++;
    return this.#am._command((am, request) => native.send(am, this.#id, data, request, op));
  }
  /** Closes (after a WebSocket close frame with code and reason, on a WebSocket); resolves when closed. */
  async close(code?: number, reason = ""): Promise<void> {
    // Once the manager is closing, its shutdown closes every connection: nothing to do,
    // and no rejection for the callers that close without awaiting (timeouts, aborts).
    if (this.isClosed || !this.#am.running) return;
    if (this.isWebsocket && code !== undefined)
      await this.wsSend(wsClosePayload(code, reason), WEBSOCKET_OP_CLOSE).catch(ignore);
    await this.#am._command((am, request) => native.close(am, this.#id, false, request)).catch(ignore);
    return this.closed;
  }
  /** Sends what is queued, then closes. */
  drain(): Promise<void> {
    return this.#am._command((am, request) => native.close(am, this.#id, true, request));
  }

  // MQTT, as Connection's: each resolves once its packet is written to the socket
  // (as send() does), to the packet id where Connection returns one.
  protected override _mqttPub(topic: string, message: Bytes, qos: number, retain: boolean,
    properties: MqttProperty[] | undefined): Promise<number> {
    return this.#am._command((am, request) => native.mqttPub(am, this.#id, topic, message, qos, retain, properties, request), packetId);
  }
  protected override _mqttSub(topic: string, qos: number | undefined): Promise<number> {
    return this.#am._command((am, request) => native.mqttSub(am, this.#id, topic, qos, request), packetId);
  }
  protected override _mqttControl(cmd: number): Promise<void> {
    return this.#am._command((am, request) => native.mqttControl(am, this.#id, cmd, request));
  }
  override mqttSendHeader(cmd: number, flags: number, length: number): Promise<void> {
    return this.#am._command((am, request) => native.mqttHeader(am, this.#id, cmd, flags, length, request));
  }
  /**
   * The MQTT messages (PUBLISH) received from the first call on, as an async
   * iterator; it ends when the connection closes. Leaving the loop stops the
   * keeping of messages until the next call.
   */
  mqttMessages(): AsyncIterableIterator<MqttMessage> {
    const inbox = ((this.#extra ??= {}).mqtt ??= new Inbox());
    const iterator: AsyncIterableIterator<MqttMessage> = {
      next: () => inbox.next(this.isClosed || this.#extra?.mqtt !== inbox),
      return: () => {
        if (this.#extra?.mqtt === inbox) this.#extra.mqtt = undefined;
        return inbox.release();
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** Asks the server of an sntpConnect connection again (mongoose sends the first request itself). */
  sntpRequest(): Promise<void> {
    return this.#am._command((am, request) => native.sntpRequest(am, this.#id, request));
  }

  /** WebSocket messages as they arrive; ends when the connection closes. */
  [Symbol.asyncIterator](): AsyncIterator<WsMessage> {
    const inbox = ((this.#extra ??= {}).ws ??= new Inbox());
    return {
      next: () => inbox.next(this.isClosed),
      return: () => inbox.release(),
    };
  }

  /** @internal the poll task reported the connection's "local|remote" addresses. */
  _addresses(addrs: string): void {
    this.#addrs = addrs;
  }

  /** @internal the poll task reported an event (the dispatch sets a known connection's HTTP_MSG flags itself: see _bits). */
  _event(ev: number, data: EventData, flags: number, addrs: string | undefined): void {
    this._bits = flags | (this._bits & GONE);
    if (addrs) this.#addrs = addrs;
    if (ev === MG_EV_READ && data instanceof Uint8Array) ((this.#extra ??= {}).inbox ??= []).push(data);
    if (ev === MG_EV_WS_MSG && data instanceof WsMessage) ((this.#extra ??= {}).ws ??= new Inbox()).push(data);
    if (ev === MG_EV_MQTT_MSG && data instanceof MqttMessage) this.#extra?.mqtt?.push(data);
    if (ev === MG_EV_CLOSE) {
      this._bits |= GONE;
      this.#extra?.ws?.release();
      this.#extra?.mqtt?.release();
      this.#extra?.closed?.resolve();
    }
  }
}
