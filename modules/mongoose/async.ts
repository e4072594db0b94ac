// SPDX-License-Identifier: MIT
// AsyncManager: mongoose runs on its own poll task (a FreeRTOS task, a thread in
// the simulator); handlers and promises run here, on the XS task. Unlike the seed,
// where handlers run on the poll thread, a JavaScript handler that blocks stalls
// JavaScript only: the poll task keeps accepting and buffering up to its queues'
// bounds. Every crossing goes through c/xm_am.h's two queues.
import * as native from "mongoose/native-async";
import {
  MG_EV_ACCEPT, MG_EV_CLOSE, MG_EV_CONNECT, MG_EV_HTTP_MSG, MG_EV_OPEN, MG_EV_READ, MG_EV_WS_MSG,
  WEBSOCKET_OP_CLOSE, WEBSOCKET_OP_TEXT, eventName,
} from "mongoose/constants";
import { MG_EV_ERROR, MG_EV_MQTT_MSG, MG_EV_MQTT_OPEN, MG_EV_SNTP_TIME } from "mongoose/constants";
import { headerLines, type Headers } from "mongoose/headers";
import { HttpMessage, WsMessage } from "mongoose/messages";
import { MqttMessage, MQTT_CMD_DISCONNECT, MQTT_CMD_PINGREQ, MQTT_CMD_PINGRESP } from "mongoose/messages";
import type { Address, Bytes, EventData } from "mongoose/connection";
import { checkTlsOptions, type TlsOptions } from "mongoose/tls";
import { urlHost, urlIsSsl } from "mongoose/util";
import { plainProperties, type MqttPubOptions } from "mongoose/connection";
import { bindNativeOnce, errorHandlerThrew, type MqttConnectOptions } from "mongoose/manager";

const RESULT = -1;
const MQTT_KIND = 3;  // XM_AM_KIND_* (c/xm_am.h)
const SNTP_KIND = 4;
const START_REQUEST = 1;
const CLOSE_REQUEST = 2;
const SHUTDOWN_RETRY_MS = 5000;

export type AsyncHandler = (conn: AsyncConnection, ev: number, data: EventData) => void | Promise<void>;
export type AsyncErrorHandler = (error: unknown, conn: AsyncConnection | undefined, ev: number) => void;

export interface AsyncManagerOptions {
  /** Longest mg_mgr_poll wait in ms; commands wake the poll task at once regardless. */
  pollInterval?: number;
  errorHandler?: AsyncErrorHandler;
  /** How long close() waits for a stuck poll task before abandoning it. */
  shutdownTimeout?: number;
  /** Capacity of the command queue (XS task to poll task); by default the host's (1024 on linux-sim, 256 on esp32). */
  commandQueueLength?: number;
}

/** A cancel signal for connect, fetch and sleep (XS has no AbortController). */
export class AbortSignal {
  #aborted = false;
  #reason: unknown = undefined;
  #listeners: Array<(reason: unknown) => void> = [];
  get aborted(): boolean {
    return this.#aborted;
  }
  get reason(): unknown {
    return this.#reason;
  }
  onAbort(listener: (reason: unknown) => void): void {
    if (this.#aborted) listener(this.#reason);
    else this.#listeners.push(listener);
  }
  /** @internal */
  static _abort(signal: AbortSignal, reason: unknown): void {
    if (signal.#aborted) return;
    signal.#aborted = true;
    signal.#reason = reason;
    for (const listener of takeAll(signal.#listeners)) listener(reason);
  }
}

export class AbortController {
  readonly signal = new AbortSignal();
  abort(reason: unknown = new Error("aborted")): void {
    AbortSignal._abort(this.signal, reason);
  }
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

interface Outcome {
  conn: number;
  addrs: string | undefined;
  /** What the command resolves to (an MQTT packet id), 0 when nothing. */
  number: number;
}

/** A connection being opened: its events carry the request until it settles. */
interface Opening {
  /** Gets the connection's events from its first on (mqttConnect, sntpConnect). */
  handler?: AsyncHandler;
  conn?: AsyncConnection;
}

/** What AsyncManager.mqttConnect takes: the Manager's options, and when to give up. */
export interface AsyncMqttConnectOptions extends Omit<MqttConnectOptions, "handler"> {
  /** Gets every event of the connection, MQTT_OPEN included. */
  handler?: AsyncHandler;
  /** Milliseconds until the broker's CONNACK (default 30000). */
  timeout?: number;
  signal?: AbortSignal;
}

/** MQTT messages waiting for mqttMessages(), and iterators waiting for messages. */
interface MqttInbox {
  items: MqttMessage[];
  waiting: Array<(message: IteratorResult<MqttMessage>) => void>;
}

/** How a command's RESULT settles what waits for it. */
interface Settle {
  resolve(outcome: Outcome): void;
  reject(error: unknown): void;
}

function ignore(): void {}

function packetId(outcome: Outcome): number {
  return outcome.number;
}

function parseAddress(text: string | undefined): Address | undefined {
  if (!text) return undefined;
  const colon = text.lastIndexOf(":");
  const host = text.slice(0, colon);
  const ipv6 = host.startsWith("[");
  return { address: ipv6 ? host.slice(1, -1) : host, port: Number(text.slice(colon + 1)), family: ipv6 ? "IPv6" : "IPv4" };
}

const enum Flag {
  Listening = 1 << 0, Closing = 1 << 1, Client = 1 << 2, Tls = 1 << 3, Udp = 1 << 4, Websocket = 1 << 5,
  Readable = 1 << 6, Writable = 1 << 7, Full = 1 << 8, Draining = 1 << 9, Accepted = 1 << 10,
  Gone = 1 << 16,  // ours, not the poll task's: the connection has closed
}

/** What only some connections need, kept apart so that an idle connection stays small. */
interface ConnectionExtra {
  userdata?: unknown;
  serving?: Promise<void>;
  closed?: Deferred<void>;
  inbox?: Uint8Array[];
  messages?: WsMessage[];
  waiting?: Array<(message: IteratorResult<WsMessage>) => void>;
  mqtt?: MqttInbox;
}

/**
 * A connection of an AsyncManager. Its methods queue commands for the poll task and
 * are safe from handlers and from any async code; the promises they return settle
 * when the poll task has done the work (send: when the bytes were written to the
 * socket), and reject with "connection N is closed" when it is gone.
 */
export class AsyncConnection {
  handler: AsyncHandler | undefined;
  readonly #am: AsyncManager;
  readonly #id: number;
  /** The poll task's flags, and Gone once the connection has closed. */
  #flags = 0;
  /** "local|remote" as the poll task printed them, parsed when asked for. */
  #addrs = "";
  // The rest is created on first use: most connections never need it, and an idle
  // connection should cost a few hundred bytes of XS heap, not kilobytes.
  #extra: ConnectionExtra | undefined;
  /** Bumped by every response or send: tells whether a throwing handler answered. */
  _sends = 0;

  /** @internal */
  constructor(am: AsyncManager, id: number) {
    this.#am = am;
    this.#id = id;
  }

  // No private accessors for these: XS gives each instance of a class with private
  // methods or accessors an extra slot, and every connection counts.

  /** @internal orders the responses of pipelined requests served by serve() (undefined when none is pending). */
  get _serving(): Promise<void> | undefined { return this.#extra?.serving; }
  set _serving(pending: Promise<void> | undefined) {
    if (pending || this.#extra) (this.#extra ??= {}).serving = pending;
  }

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
  get isClosed(): boolean { return (this.#flags & Flag.Gone) !== 0; }

  get isListening(): boolean { return (this.#flags & Flag.Listening) !== 0; }
  get isClosing(): boolean { return this.isClosed || (this.#flags & Flag.Closing) !== 0; }
  get isClient(): boolean { return (this.#flags & Flag.Client) !== 0; }
  get isAccepted(): boolean { return (this.#flags & Flag.Accepted) !== 0; }
  get isTls(): boolean { return (this.#flags & Flag.Tls) !== 0; }
  get isUdp(): boolean { return (this.#flags & Flag.Udp) !== 0; }
  get isWebsocket(): boolean { return (this.#flags & Flag.Websocket) !== 0; }
  get isReadable(): boolean { return (this.#flags & Flag.Readable) !== 0; }
  get isWritable(): boolean { return (this.#flags & Flag.Writable) !== 0; }
  get isFull(): boolean { return (this.#flags & Flag.Full) !== 0; }
  get isDraining(): boolean { return (this.#flags & Flag.Draining) !== 0; }
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
    return this.#am._command((request) => native.send(this.#am._native, this.#id, data, request, -1));
  }
  /** A complete HTTP response, binary-safe; resolves once written. */
  reply(status: number, body: Bytes = "", headers?: Headers): Promise<void> {
    return this._reply(status, body, headers, true)!;
  }
  /** @internal unawaited (serve): no promise, and no completion event crosses back. Throws when it cannot queue. */
  _reply(status: number, body: Bytes, headers: Headers | undefined, awaited: boolean): Promise<void> | undefined {
    this._sends++;
    const lines = headerLines(headers, "content-length");
    if (awaited) return this.#am._command((request) => native.reply(this.#am._native, this.#id, status, lines, body, request));
    native.reply(this.#am._native, this.#id, status, lines, body, 0);
    return undefined;
  }
  replyJson(value: unknown, status = 200, headers?: Headers): Promise<void> {
    return this.reply(status, JSON.stringify(value) ?? "null", { "Content-Type": "application/json", ...headers });
  }
  /** One chunk of a chunked response ("" ends it). */
  httpChunk(data: Bytes): Promise<void> {
    const bytes = typeof data === "string" ? utf8(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    return this.send(concat([utf8(`${bytes.length.toString(16)}\r\n`), bytes, utf8("\r\n")]));
  }
  httpSse(event: string, data: string): Promise<void> {
    if (/[\r\n]/.test(event)) throw new TypeError("an SSE event name cannot contain CR or LF");
    const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`).join("");
    return this.httpChunk(`event: ${event}\n${lines}\n`);
  }
  wsUpgrade(msg: HttpMessage, headers?: Headers): Promise<void> {
    this._sends++;
    const lines = headerLines(headers);
    return this.#am._command((request) => native.wsUpgrade(this.#am._native, this.#id, msg, lines, request));
  }
  wsSend(data: Bytes, op: number = WEBSOCKET_OP_TEXT): Promise<void> {
    this._sends++;
    return this.#am._command((request) => native.send(this.#am._native, this.#id, data, request, op));
  }
  /** Closes (after a WebSocket close frame with code and reason, on a WebSocket); resolves when closed. */
  async close(code?: number, reason = ""): Promise<void> {
    // Once the manager is closing, its shutdown closes every connection: nothing to do,
    // and no rejection for the callers that close without awaiting (timeouts, aborts).
    if (this.isClosed || !this.#am.running) return;
    if (this.isWebsocket && code !== undefined) {
      const text = utf8(reason);
      const frame = new Uint8Array(2 + text.length);
      frame[0] = code >> 8;
      frame[1] = code & 0xff;
      frame.set(text, 2);
      await this.wsSend(frame, WEBSOCKET_OP_CLOSE).catch(() => undefined);
    }
    await this.#am._command((request) => native.close(this.#am._native, this.#id, false, request)).catch(() => undefined);
    return this.closed;
  }
  /** Sends what is queued, then closes. */
  drain(): Promise<void> {
    return this.#am._command((request) => native.close(this.#am._native, this.#id, true, request));
  }

  // MQTT, as Connection's methods. Each resolves once its packet is written to the
  // socket (as send() does), to the packet id where Connection returns one.
  /**
   * Publishes; resolves to the packet id (0 for QoS 0). The broker's PUBACK (QoS 1)
   * or PUBREC (QoS 2) arrives as MQTT_CMD with that id; mongoose does not resend.
   */
  mqttPub(topic: string, message: Bytes, options: MqttPubOptions = {}): Promise<number> {
    const properties = plainProperties(options.properties);
    return this.#am._command((request) => native.mqttPub(this.#am._native, this.#id, topic, message, options.qos ?? 0,
      options.retain ?? false, properties, request), packetId);
  }
  /** Subscribes to a topic filter; resolves to the packet id, which the SUBACK (MQTT_CMD) carries. */
  mqttSub(topic: string, qos: 0 | 1 | 2 = 0): Promise<number> {
    return this.#am._command((request) => native.mqttSub(this.#am._native, this.#id, topic, qos, request), packetId);
  }
  /** Unsubscribes from a topic filter; resolves to the packet id, which the UNSUBACK carries. */
  mqttUnsub(topic: string): Promise<number> {
    return this.#am._command((request) => native.mqttSub(this.#am._native, this.#id, topic, undefined, request), packetId);
  }
  /** Sends PINGREQ; the broker's PINGRESP arrives as MQTT_CMD. */
  mqttPing(): Promise<void> {
    return this.#am._command((request) => native.mqttControl(this.#am._native, this.#id, MQTT_CMD_PINGREQ, request));
  }
  /** Sends PINGRESP (a server's answer to PINGREQ, for mqttListen). */
  mqttPong(): Promise<void> {
    return this.#am._command((request) => native.mqttControl(this.#am._native, this.#id, MQTT_CMD_PINGRESP, request));
  }
  /** Sends DISCONNECT: the broker then drops the will. close() after it. */
  mqttDisconnect(): Promise<void> {
    return this.#am._command((request) => native.mqttControl(this.#am._native, this.#id, MQTT_CMD_DISCONNECT, request));
  }
  /** Sends an MQTT fixed header; send() the length bytes that follow (for mqttListen servers). */
  mqttSendHeader(cmd: number, flags: number, length: number): Promise<void> {
    return this.#am._command((request) => native.mqttHeader(this.#am._native, this.#id, cmd, flags, length, request));
  }
  /**
   * The MQTT messages (PUBLISH) received from the first call on, as an async
   * iterator; it ends when the connection closes. Leaving the loop stops the
   * keeping of messages until the next call.
   */
  mqttMessages(): AsyncIterableIterator<MqttMessage> {
    const inbox = ((this.#extra ??= {}).mqtt ??= { items: [], waiting: [] });
    const iterator: AsyncIterableIterator<MqttMessage> = {
      next: () => {
        const message = inbox.items.shift();
        if (message) return Promise.resolve({ value: message, done: false });
        if (this.isClosed || this.#extra?.mqtt !== inbox) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => inbox.waiting.push(resolve));
      },
      return: () => {
        if (this.#extra?.mqtt === inbox) this.#extra.mqtt = undefined;
        takeAll(inbox.waiting).forEach((w) => w({ value: undefined, done: true }));
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** Asks the server of an sntpConnect connection again (mongoose sends the first request itself). */
  sntpRequest(): Promise<void> {
    return this.#am._command((request) => native.sntpRequest(this.#am._native, this.#id, request));
  }

  /** WebSocket messages as they arrive; ends when the connection closes. */
  [Symbol.asyncIterator](): AsyncIterator<WsMessage> {
    return {
      next: () => {
        const message = this.#extra?.messages?.shift();
        if (message) return Promise.resolve({ value: message, done: false });
        if (this.isClosed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => ((this.#extra ??= {}).waiting ??= []).push(resolve));
      },
      return: () => {
        takeAll(this.#extra?.waiting).forEach((w) => w({ value: undefined, done: true }));
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** @internal the poll task reported the connection's "local|remote" addresses. */
  _addresses(addrs: string): void {
    this.#addrs = addrs;
  }

  /** @internal the poll task reported an event. */
  _event(ev: number, data: EventData, flags: number, addrs: string | undefined): void {
    this.#flags = flags | (this.#flags & Flag.Gone);
    if (addrs) this.#addrs = addrs;
    if (ev === MG_EV_READ && data instanceof Uint8Array) ((this.#extra ??= {}).inbox ??= []).push(data);
    if (ev === MG_EV_WS_MSG && data instanceof WsMessage) {
      const waiter = this.#extra?.waiting?.shift();
      if (waiter) waiter({ value: data, done: false });
      else ((this.#extra ??= {}).messages ??= []).push(data);
    }
    const mqtt = this.#extra?.mqtt;
    if (ev === MG_EV_MQTT_MSG && mqtt && data instanceof MqttMessage) {
      const waiter = mqtt.waiting.shift();
      if (waiter) waiter({ value: data, done: false });
      else mqtt.items.push(data);
    }
    if (ev === MG_EV_CLOSE) {
      this.#flags |= Flag.Gone;
      takeAll(this.#extra?.waiting).forEach((w) => w({ value: undefined, done: true }));
      takeAll(this.#extra?.mqtt?.waiting).forEach((w) => w({ value: undefined, done: true }));
      this.#extra?.closed?.resolve();
    }
  }
}

// Empties items and returns what they were. Not splice(0) on an empty array: XS then
// hands memcpy a NULL pointer, which the sanitize build (UBSan) stops on.
function takeAll<T>(items: T[] | undefined): T[] {
  return items?.length ? items.splice(0) : [];
}

function utf8(text: string): Uint8Array {
  const bytes: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) bytes.push(c);
    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(bytes);
}

function concat(parts: Array<Uint8Array | ArrayBufferView>): Uint8Array {
  const views = parts.map((p) => (p instanceof Uint8Array ? p : new Uint8Array(p.buffer, p.byteOffset, p.byteLength)));
  if (views.length === 1) return views[0];
  const out = new Uint8Array(views.reduce((n, v) => n + v.length, 0));
  let at = 0;
  for (const v of views) {
    out.set(v, at);
    at += v.length;
  }
  return out;
}

function decode(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 4096) text += String.fromCharCode(...bytes.subarray(i, i + 4096));
  try {
    return decodeURIComponent(escapeBytes(text));
  } catch {
    return text;
  }
}

function escapeBytes(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += c < 0x80 && c !== 0x25 ? text[i] : "%" + (c < 16 ? "0" : "") + c.toString(16);
  }
  return out;
}

/** A request handed to serve(): a copy, valid across awaits. */
export class Request {
  readonly #msg: HttpMessage;
  /** @internal */
  constructor(msg: HttpMessage) {
    this.#msg = msg;
  }
  get method(): string { return this.#msg.method; }
  get uri(): string { return this.#msg.uri; }
  get query(): string { return this.#msg.query; }
  get headers(): Array<[string, string]> { return this.#msg.headers; }
  header(name: string): string | undefined { return this.#msg.header(name); }
  queryVar(name: string): string | undefined { return this.#msg.queryVar(name); }
  get body(): Uint8Array { return this.#msg.body; }
  text(): string { return this.#msg.bodyText; }
  json(): unknown { return JSON.parse(this.#msg.bodyText); }
  /** The underlying message (for wsUpgrade). */
  get message(): HttpMessage { return this.#msg; }
}

export interface ServeResponse {
  status?: number;
  headers?: Headers;
  body?: string | Uint8Array;
}
/** Returns the response, or answers through conn itself (conn.wsUpgrade, conn.reply) and returns nothing. */
export type ServeHandler = (req: Request, conn: AsyncConnection) => ServeResponse | string | void | Promise<ServeResponse | string | void>;

export interface FetchOptions {
  method?: string;
  headers?: Headers;
  body?: string | Uint8Array;
  /** Milliseconds before the request fails (default 30000). */
  timeout?: number;
  signal?: AbortSignal;
  /** For https: see AsyncManager.connect. */
  tls?: TlsOptions;
}

/** What fetch() resolves to. */
export class Response {
  readonly status: number;
  readonly headers: Array<[string, string]>;
  readonly #body: Uint8Array;
  /** @internal */
  constructor(msg: HttpMessage) {
    this.status = msg.status();
    this.headers = msg.headers;
    this.#body = msg.body;
  }
  get ok(): boolean { return this.status >= 200 && this.status < 300; }
  header(name: string): string | undefined {
    const lower = name.toLowerCase();
    return this.headers.find(([n]) => n.toLowerCase() === lower)?.[1];
  }
  text(): Promise<string> { return Promise.resolve(decode(this.#body)); }
  json(): Promise<unknown> { return this.text().then((t) => JSON.parse(t)); }
  arrayBuffer(): Promise<ArrayBuffer> {
    const copy = new Uint8Array(this.#body.length);
    copy.set(this.#body);
    return Promise.resolve(copy.buffer);
  }
}

export interface AsyncTimer {
  readonly active: boolean;
  cancel(): void;
}

export class AsyncManager {
  #native: object | undefined;
  #handler: AsyncHandler | undefined;
  readonly #errorHandler: AsyncErrorHandler;
  readonly #pollInterval: number;
  readonly #shutdownTimeout: number;
  readonly #queueLength: number | undefined;
  #state: "new" | "starting" | "running" | "closing" | "closed" = "new";
  readonly #conns = new Map<number, AsyncConnection>();
  readonly #requests = new Map<number, Settle>();
  readonly #opening = new Map<number, Opening>();
  #nextRequest = 3;
  /** timerAdd's timers that may still fire: close() clears them, or they would keep the firmware alive. */
  readonly #timers = new Set<TimerID>();
  #closing: Promise<void> | undefined;
  #started: Promise<Outcome> | undefined;

  constructor(handler?: AsyncHandler, options: AsyncManagerOptions = {}) {
    bindNativeOnce();
    this.#handler = handler;
    this.#errorHandler = options.errorHandler ?? ((error, conn, ev) =>
      console.error(`mongoose: handler of ${eventName(ev)} on connection ${conn?.id ?? "-"} failed:`, error));
    this.#pollInterval = options.pollInterval ?? 100;
    this.#shutdownTimeout = options.shutdownTimeout ?? 30000;
    this.#queueLength = options.commandQueueLength;  // undefined: the host's (xm_host_config.h)
  }

  /** Runs fn with a started AsyncManager and closes it afterwards, whatever happens. */
  static async run<T>(fn: (am: AsyncManager) => Promise<T> | T, options?: AsyncManagerOptions & { handler?: AsyncHandler }): Promise<T> {
    const am = new AsyncManager(options?.handler, options);
    await am.start();
    try {
      return await fn(am);
    } finally {
      await am.close();
    }
  }

  /** `await using am = new AsyncManager()` closes it when the scope ends (the runtime defines the symbol). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  get running(): boolean {
    return this.#state === "running";
  }
  /** The manager's own handler, for connections without one. */
  get handler(): AsyncHandler | undefined {
    return this.#handler;
  }
  set handler(handler: AsyncHandler | undefined) {
    this.#handler = handler;
  }
  /** The mg_mgr belongs to the poll task; JavaScript reaches it through this object. */
  get manager(): AsyncManager {
    this.#check();
    return this;
  }
  get connections(): AsyncConnection[] {
    return [...this.#conns.values()];
  }

  async start(): Promise<void> {
    if (this.#state !== "new") throw new Error(`AsyncManager is ${this.#state}: start() works once`);
    this.#state = "starting";
    const started = deferred<Outcome>();
    this.#started = started.promise;
    this.#requests.set(START_REQUEST, started);
    this.#native = native.create((conn, ev, data, value, number, addrs, request) =>
      this.#dispatch(conn, ev, data as EventData, value, number, addrs, request), this.#pollInterval, this.#queueLength);
    native.start(this.#native);
    try {
      await started.promise;
    } catch (error) {
      this.#state = "closed";
      throw error;
    }
    this.#state = "running";
  }

  /** Stops the poll task and closes every connection; never deadlocks, see the README. */
  close(): Promise<void> {
    if (this.#state === "new" || this.#state === "closed") {
      this.#state = "closed";
      return Promise.resolve();
    }
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    if (this.#state === "starting") await this.#started?.catch(ignore);
    this.#state = "closing";
    for (const id of this.#timers) clearInterval(id);
    this.#timers.clear();
    const done = deferred<Outcome>();
    this.#requests.set(CLOSE_REQUEST, done);
    const am = this.#native!;
    native.stop(am);
    const started = Date.now();
    for (;;) {
      const left = this.#shutdownTimeout - (Date.now() - started);
      const wait = Math.min(SHUTDOWN_RETRY_MS, Math.max(left, 0));
      // The retry timer is cleared once the poll task is done: a pending timer keeps the firmware alive.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finished = await Promise.race([
        done.promise.then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), wait))),
      ]);
      clearTimeout(timer);
      if (finished) {
        native.finish(am, false);
        break;
      }
      // The last wait ran to the deadline: Date.now() may read a millisecond short
      // of it when the timer fires (the timers keep their own clock).
      if (wait === Math.max(left, 0) || Date.now() - started >= this.#shutdownTimeout) {
        console.warn(`AsyncManager: the poll task did not stop within ${this.#shutdownTimeout} ms (stuck in ${native.activity(am)}); abandoning it`);
        native.finish(am, true);
        break;
      }
      console.warn(`AsyncManager: the poll task is still running after ${Date.now() - started} ms (stuck in ${native.activity(am)}); waking it again`);
      native.stop(am);
    }
    this.#state = "closed";
    for (const d of this.#requests.values()) d.reject(new Error("AsyncManager closed"));
    this.#requests.clear();
    this.#opening.clear();
  }

  #check(): object {
    if (this.#state !== "running") throw notStarted();
    return this.#native!;
  }

  /** @internal */
  get _native(): object {
    return this.#check();
  }

  /** @internal queues a command whose completion settles the returned promise (with value's result). */
  _command<T = void>(post: (request: number) => void, value?: (outcome: Outcome) => T): Promise<T> {
    this.#check();
    const request = this.#nextRequest++;
    let settle!: Settle;
    const done = new Promise<T>((resolve, reject) =>
      (settle = { resolve: (outcome) => resolve(value ? value(outcome) : undefined as T), reject }));
    this.#requests.set(request, settle);
    try {
      post(request);
    } catch (error) {
      this.#requests.delete(request);
      return Promise.reject(error);
    }
    // Marked handled: a handler written for Manager calls conn.reply() without
    // awaiting it, and a client that left meanwhile must not make that an unhandled
    // rejection (fatal here). Whoever awaits the promise still sees the rejection.
    done.catch(ignore);
    return done;
  }

  #open(post: (am: object, request: number) => void, opening: Opening = {}): Promise<AsyncConnection> {
    const native_ = this.#check();
    const request = this.#nextRequest++;
    const d = deferred<Outcome>();
    this.#requests.set(request, d);
    this.#opening.set(request, opening);
    try {
      post(native_, request);
    } catch (error) {
      this.#requests.delete(request);
      this.#opening.delete(request);
      throw error;
    }
    return d.promise.then((outcome) => this.#connection(outcome.conn, outcome.addrs));
  }

  /**
   * Listens; resolves to the listening connection once bound, rejects if it cannot (port in use).
   * A TLS URL (https://, wss://, tls://...) needs options.tls with cert and key: every
   * accepted connection then speaks TLS.
   */
  async listen(url: string, handler?: AsyncHandler, options?: { http?: boolean; tls?: TlsOptions }): Promise<AsyncConnection> {
    const http = options?.http ?? /^(https?|wss?):\/\//i.test(url);
    const tls = tlsFor(`listen ${url}`, url, options?.tls, false);
    const conn = await this.#open((am, request) => nativeOpen(am, true, url, http ? 1 : 0, request, tls));
    if (handler) conn.handler = handler;
    return conn;
  }

  /**
   * Connects; resolves once connected (with TLS: once the handshake is done), rejects on
   * DNS, connect or TLS error, timeout or abort. A TLS URL (https://, tls://...) needs
   * options.tls with ca, or skipVerification: true; name defaults to the URL's host.
   */
  connect(url: string, handler?: AsyncHandler, options: { http?: boolean; timeout?: number; signal?: AbortSignal; tls?: TlsOptions } = {}): Promise<AsyncConnection> {
    const http = options.http ?? /^https?:\/\//i.test(url);
    return this.#connectWith("connect", url, (am, request) =>
      nativeOpen(am, false, url, http ? 1 : 0, request, tlsFor(`connect ${url}`, url, options.tls, true)), handler, options);
  }

  /** A WebSocket client; resolves once the handshake is done. wss:// takes options.tls as connect does. */
  wsConnect(url: string, handler?: AsyncHandler, options: { timeout?: number; signal?: AbortSignal; tls?: TlsOptions } = {}): Promise<AsyncConnection> {
    return this.#connectWith("connect", url, (am, request) =>
      nativeOpen(am, false, url, 2, request, tlsFor(`connect ${url}`, url, options.tls, true)), handler, options);
  }

  // early: the handler gets the connection's events from the first (OPEN) on, as
  // with Manager, instead of from the settling on.
  #connectWith(what: string, url: string, post: (am: object, request: number) => void, handler: AsyncHandler | undefined,
    options: { timeout?: number; signal?: AbortSignal }, early = false): Promise<AsyncConnection> {
    const opening: Opening = { handler: early ? handler : undefined };
    let open: Promise<AsyncConnection>;
    try {
      open = this.#open(post, opening);
    } catch (error) {
      return Promise.reject(error);  // not started, bad options: a rejection like any other failure
    }
    // mongoose's reasons ("socket error") do not say what failed: name the URL.
    const opened = open.catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      const bare = message.startsWith(`connect ${url}: `) ? message.slice(`connect ${url}: `.length) : message;
      throw new Error(`${what} ${url}: ${bare}`);
    });
    const result = withDeadline(opened, options.timeout ?? 30000, options.signal, `${what} ${url}`);
    // A late connection after a timeout or abort is closed, not leaked; so is one
    // still waiting for its protocol's handshake (an MQTT broker that never answers).
    result.catch(() => {
      opening.conn?.close();
      opened.then((conn) => conn.close(), () => undefined);
    });
    return result.then((conn) => {
      if (handler) conn.handler = handler;
      return conn;
    });
  }

  /**
   * An MQTT client (options as Manager.mqttConnect's); resolves once the broker
   * accepted it (CONNACK 0), rejects when it refuses (naming the code), on a DNS or
   * connect error, timeout or abort. The handler gets MQTT_OPEN and every other event.
   */
  mqttConnect(url: string, options: AsyncMqttConnectOptions = {}): Promise<AsyncConnection> {
    if (urlIsSsl(url)) return Promise.reject(noMqttTls("mqttConnect", url));
    const will = options.will;
    return this.#connectWith("mqttConnect", url, (am, request) => native.mqttConnect(am, url, options.clientId,
      options.username, options.password, options.cleanSession ?? true, options.keepalive ?? 0, options.version ?? 4,
      will?.topic, will?.message, will?.qos ?? 0, will?.retain ?? false, request), options.handler, options, true);
  }

  /**
   * Accepts MQTT clients; resolves to the listener once bound. As with Manager it
   * parses, the handler answers (MQTT_CMD for each packet: mqttSendHeader + send,
   * mqttPong) and routes messages itself. Clients are taken as MQTT 3.1.1.
   */
  async mqttListen(url: string, handler?: AsyncHandler): Promise<AsyncConnection> {
    if (urlIsSsl(url)) throw noMqttTls("mqttListen", url);
    const conn = await this.#open((am, request) => native.open(am, true, url, MQTT_KIND, request));
    if (handler) conn.handler = handler;
    return conn;
  }

  /**
   * Asks an SNTP server for the time ("udp://host:123"); resolves to the connection
   * once it can send (mongoose sends the first request). SNTP_TIME brings the epoch
   * milliseconds to the handler; mongoose closes the connection after the first
   * reply, or after 3 s without one.
   */
  sntpConnect(url: string, handler?: AsyncHandler, options: { timeout?: number; signal?: AbortSignal } = {}): Promise<AsyncConnection> {
    return this.#connectWith("sntpConnect", url, (am, request) => native.open(am, false, url, SNTP_KIND, request), handler, options, true);
  }

  /** The time from an SNTP server, in epoch milliseconds (for new Date(ms)). */
  sntpTime(url: string, options: { timeout?: number; signal?: AbortSignal } = {}): Promise<number> {
    const time = deferred<number>();
    time.promise.catch(ignore);  // settled by events while nobody awaits it yet
    const opened = this.sntpConnect(url, (_conn, ev, data) => {
      if (ev === MG_EV_SNTP_TIME && typeof data === "number") time.resolve(data);
      else if (ev === MG_EV_ERROR) time.reject(new Error(`sntpTime ${url}: ${String(data)}`));
      else if (ev === MG_EV_CLOSE) time.reject(new Error(`sntpTime ${url}: no valid reply (mongoose waits 3 s)`));
    }, options);
    const result = withDeadline(opened.then(() => time.promise), options.timeout ?? 30000, options.signal, `sntpTime ${url}`);
    result.catch(() => opened.then((conn) => conn.close(), ignore));
    return result;
  }

  /** Serves HTTP with an async handler per request; a throw or rejection answers 500. https:// takes options.tls as listen does. */
  serve(url: string, handler: ServeHandler, options?: { tls?: TlsOptions }): Promise<AsyncConnection> {
    return this.listen(url, (conn, ev, data) => {
      if (ev !== MG_EV_HTTP_MSG || !(data instanceof HttpMessage)) return;
      const req = new Request(data);
      const previous = conn._serving;
      if (!previous) {
        // The common case: #answer's own promise clears conn._serving when it settles.
        // Every object saved here counts: a request stays live until its handler
        // answers, and a burst of 200 at once must fit the esp32 creation profile.
        const pending = this.#answer(conn, req, handler);
        if (pending) conn._serving = pending;
        return;
      }
      // Pipelined requests wait for the previous answer, so that responses go out in order.
      const answer = () => this.#answer(conn, req, handler);
      const pending = previous.then(answer, answer);
      conn._serving = pending;
      // Once nothing is pending, an idle kept-alive connection holds no promise.
      const done = () => {
        if (conn._serving === pending) conn._serving = undefined;
      };
      pending.then(done, done);
    }, { http: true, tls: options?.tls });
  }

  // Runs one serve() handler; a promise only when the handler returned one. Never rejects.
  #answer(conn: AsyncConnection, req: Request, handler: ServeHandler): Promise<void> | undefined {
    const sends = conn._sends;
    let response: ServeResponse | string | void | Promise<ServeResponse | string | void>;
    try {
      response = handler(req, conn);
    } catch (error) {
      this.#serveFailed(conn, sends, error);
      return undefined;
    }
    if (!response || typeof (response as Promise<unknown>).then !== "function") {
      this.#respond(conn, sends, response as ServeResponse | string | void);
      return undefined;
    }
    const pending: Promise<void> = (response as Promise<ServeResponse | string | void>).then((value) => {
      if (conn._serving === pending) conn._serving = undefined;
      this.#respond(conn, sends, value);
    }, (error: unknown) => {
      if (conn._serving === pending) conn._serving = undefined;
      this.#serveFailed(conn, sends, error);
    });
    return pending;
  }

  // Sends a serve() handler's response, unless it answered through conn itself
  // (wsUpgrade, reply). The reply is not awaited: the command queue keeps responses
  // in order, and no completion event has to cross back.
  #respond(conn: AsyncConnection, sends: number, response: ServeResponse | string | void | null): void {
    if (conn._sends !== sends || conn.isClosed || !this.running) return;
    if (response === undefined || response === null) response = { status: 500, body: "the handler returned no response\n" };
    else if (typeof response === "string") response = { body: response };
    const status = response.status ?? 200;
    if (!Number.isInteger(status) || status < 100 || status > 999) {
      this.#report(new RangeError(`serve: HTTP status ${status} is not an integer between 100 and 999`), conn, MG_EV_HTTP_MSG);
      response = { status: 500, body: "the handler returned an invalid status\n" };
    }
    try {
      conn._reply(response.status ?? 200, response.body ?? "", response.headers, false);
    } catch (failure) {
      // The command queue is full: this client gets no answer. Closing it (if even
      // that can be queued) beats leaving it waiting.
      this.#report(failure, conn, MG_EV_HTTP_MSG);
      conn.close().catch(ignore);
    }
  }

  #serveFailed(conn: AsyncConnection, sends: number, error: unknown): void {
    this.#report(error, conn, MG_EV_HTTP_MSG);
    this.#respond(conn, sends, { status: 500, body: "Internal Server Error\n" });
  }

  /** An HTTP request; the response's body is read whole. */
  async fetch(url: string, options: FetchOptions = {}): Promise<Response> {
    const match = /^(https?):\/\/([^/?#]+)([^#]*)/i.exec(url);
    if (!match) throw new TypeError(`fetch: not an http(s) URL: ${url}`);
    const host = match[2];
    const path = match[3] || "/";
    const body = typeof options.body === "string" ? utf8(options.body) : options.body ?? new Uint8Array(0);
    const method = (options.method ?? "GET").toUpperCase();
    const head = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n` +
      headerLines(options.headers, "content-length") + `Content-Length: ${body.length}\r\n\r\n`;
    const response = deferred<Response>();
    const conn = await this.connect(url, (c, ev, data) => {
      if (ev === MG_EV_HTTP_MSG && data instanceof HttpMessage) {
        response.resolve(new Response(data));
        c.close();
      }
      else if (ev === MG_EV_CLOSE) response.reject(new Error(`fetch ${url}: the connection closed before a response`));
    }, { http: true, timeout: options.timeout, signal: options.signal, tls: options.tls });
    await conn.send(concat([utf8(head), body]));
    const result = withDeadline(response.promise, options.timeout ?? 30000, options.signal, `fetch ${url}`);
    result.catch(() => conn.close());
    return result;
  }

  /** Resolves after ms; rejects when the signal aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (!this.running) return Promise.reject(notStarted());
    return withDeadline(new Promise<void>(() => undefined), ms, signal, "sleep", true);
  }

  /** Queues work onto the XS task (JS's own microtask queue here; native code uses xm_post). */
  schedule<T>(work: (() => T | Promise<T>) | Promise<T>): Promise<T> {
    if (!this.running) return Promise.reject(notStarted());
    return typeof work === "function" ? Promise.resolve().then(work) : Promise.resolve(work);
  }

  /** Calls callback every ms (or once) on the XS task, as the runtime's timers do, until cancel() or close(). */
  timerAdd(ms: number, callback: () => void, options: { repeat?: boolean; runNow?: boolean } = {}): AsyncTimer {
    this.#check();
    if (options.runNow) callback();
    const timers = this.#timers;
    const id = options.repeat
      ? setInterval(callback, ms)
      : setTimeout(() => {
        timers.delete(id);
        callback();
      }, ms);
    timers.add(id);
    return {
      get active() {
        return timers.has(id);
      },
      cancel() {
        timers.delete(id);
        clearInterval(id);
      },
    };
  }

  /**
   * An MG_EV_WAKEUP with data for a live connection; false when it is not live. Any
   * size: the data travels on the command queue, not in a datagram as Manager's.
   */
  wakeup(connectionId: number, data?: Bytes): boolean {
    const am = this.#check();
    if (!this.#conns.has(connectionId)) return false;
    native.wakeup(am, connectionId, data);
    return true;
  }

  /** @internal test hook: makes the poll task block in "native work" for ms. */
  _stall(ms: number): void {
    native.stall(this.#check(), ms);
  }

  #connection(id: number, addrs: string | undefined): AsyncConnection {
    let conn = this.#conns.get(id);
    if (!conn) {
      conn = new AsyncConnection(this, id);
      this.#conns.set(id, conn);
    }
    if (addrs) conn._addresses(addrs);
    return conn;
  }

  #dispatch(id: number, ev: number, data: EventData, value: number, number: number, addrs: string | undefined, request: number): void {
    if (ev === RESULT) {
      this.#opening.delete(request);
      const d = this.#requests.get(request);
      if (!d) return;
      this.#requests.delete(request);
      if (value === 0) d.resolve({ conn: number || id, addrs, number });
      else d.reject(new Error(typeof data === "string" ? data : "failed"));
      return;
    }
    let conn = this.#conns.get(id);
    if (!conn) {
      conn = new AsyncConnection(this, id);
      this.#conns.set(id, conn);
      const listener = (ev === MG_EV_OPEN || ev === MG_EV_ACCEPT) && number ? this.#conns.get(number) : undefined;
      if (listener?.handler) conn.handler = listener.handler;
    }
    const opening = request ? this.#opening.get(request) : undefined;
    if (opening) {
      opening.conn = conn;
      conn.handler ??= opening.handler;
    }
    // As the Manager passes them: the CONNACK's return code, the epoch milliseconds.
    if (ev === MG_EV_MQTT_OPEN || ev === MG_EV_SNTP_TIME) data = number;
    conn._event(ev, data, value, addrs);
    if (ev === MG_EV_CLOSE) this.#conns.delete(id);
    const handler = conn.handler ?? this.#handler;
    if (!handler) return;
    const sends = conn._sends;
    try {
      const result = handler(conn, ev, data);
      if (result && typeof (result as Promise<void>).then === "function")
        (result as Promise<void>).then(undefined, (error) => this.#failed(error, conn!, ev, sends));
    } catch (error) {
      this.#failed(error, conn, ev, sends);
    }
  }

  #report(error: unknown, conn: AsyncConnection, ev: number): void {
    try {
      this.#errorHandler(error, conn, ev);
    } catch (again) {
      errorHandlerThrew(again, error, ev, conn.id);
    }
  }

  // A handler threw or rejected: tell the errorHandler, and answer 500 to an HTTP
  // request it left unanswered (sends: the connection's send count before it ran).
  #failed(error: unknown, conn: AsyncConnection, ev: number, sends: number): void {
    this.#report(error, conn, ev);
    // Not after close(): reply() would throw "not started" out of the dispatch.
    if (ev === MG_EV_HTTP_MSG && conn._sends === sends && !conn.isClosed && this.running)
      conn.reply(500, "Internal Server Error\n").catch(ignore);
  }
}

function notStarted(): Error {
  return new Error("AsyncManager is not started");
}

function noMqttTls(what: string, url: string): TypeError {
  return new TypeError(`${what} ${url}: MQTT over TLS is not supported by the AsyncManager yet`);
}

function nativeOpen(am: object, listen: boolean, url: string, kind: number, request: number, tls: TlsOptions | undefined): void {
  if (tls) native.open(am, listen, url, kind, request, tls.ca, tls.cert, tls.key, tls.name, tls.skipVerification ?? false);
  else native.open(am, listen, url, kind, request);
}

/**
 * The TLS options a listen or connect goes with (undefined for a plain URL), checked
 * here so that a mistake throws at the call: on the poll task it would only fail the
 * handshake. A client must say how to trust its server, as mongoose has no CA store.
 */
function tlsFor(what: string, url: string, tls: TlsOptions | undefined, client: boolean): TlsOptions | undefined {
  if (!urlIsSsl(url)) {
    if (tls !== undefined) throw new TypeError(`${what}: tls options need a TLS URL (https://, wss://, mqtts://, tls://, ssl://, tcps://)`);
    return undefined;
  }
  if (!client) {
    if (!tls?.cert) throw new TypeError(`${what}: a TLS server needs tls: { cert, key }`);
    checkTlsOptions(what, tls, false);
    return tls;
  }
  if (!tls || (!tls.ca && !tls.skipVerification))
    throw new TypeError(`${what}: a TLS client needs tls.ca (the CA its server's certificate must lead to), or tls.skipVerification: true not to verify its certificate (the name is still checked)`);
  const options = tls.name ? tls : { ...tls, name: urlHost(url).replace(/^\[(.*)\]$/, "$1") };
  checkTlsOptions(what, options, true);
  return options;
}

// Settles like promise, or rejects after ms / on abort (resolves instead when timeoutResolves).
function withDeadline<T>(promise: Promise<T>, ms: number, signal: AbortSignal | undefined, what: string, timeoutResolves = false): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (timeoutResolves) resolve(undefined as T);
      else reject(new Error(`${what}: timed out after ${ms} ms`));
    }, ms);
    signal?.onAbort((reason) => {
      clearTimeout(timer);
      reject(reason);
    });
    promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    }, (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

