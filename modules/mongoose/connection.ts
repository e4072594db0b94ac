// SPDX-License-Identifier: MIT
// Connection: one mongoose connection. Instances are made by the Manager (they
// arrive in handlers and come back from listen/connect). Methods are safe inside
// handlers: close() only marks the connection, mongoose frees it after the poll.
// Once closed, every method but the getters throws "connection N is closed".
import * as native from "mongoose/native";
import * as nativeNet from "mongoose/native-net";
import * as nativeTls from "mongoose/native-tls";
import { checkTlsOptions, type TlsOptions } from "mongoose/tls";
import { WEBSOCKET_OP_TEXT } from "mongoose/constants";
import { headerLines, type Headers } from "mongoose/headers";
import type { HttpMessage, WsMessage, MqttMessage } from "mongoose/messages";
import type { MqttProperty } from "mongoose/messages";
import * as nativeMqtt from "mongoose/native-mqtt";
import * as nativeSntp from "mongoose/native-sntp";

export type Bytes = string | Uint8Array | ArrayBuffer;
export type { TlsOptions } from "mongoose/tls";

/** What a handler receives as its third argument, by event (see README). */
export type EventData = HttpMessage | WsMessage | MqttMessage | Uint8Array | string | number | undefined;

export type Handler = (conn: Connection, ev: number, data: EventData) => void;

export interface Address {
  address: string;
  port: number;
  family: "IPv4" | "IPv6";
}

export interface ServeOptions {
  /** Folder to serve files from; required and not empty (serveDir throws otherwise). */
  rootDir: string;
  /** Headers added to every response. */
  extraHeaders?: Headers;
  /** Extra types by extension: { "data": "application/octet-stream" }. */
  mimeTypes?: Record<string, string>;
  /** A file served (with status 404) when nothing matches. */
  page404?: string;
}

const enum Flag {
  Listening = 1 << 0,
  Closing = 1 << 1,
  Client = 1 << 2,
  Tls = 1 << 3,
  Udp = 1 << 4,
  Websocket = 1 << 5,
  Readable = 1 << 6,
  Writable = 1 << 7,
  Full = 1 << 8,
  Draining = 1 << 9,
  Accepted = 1 << 10,
}

function mimeTypes(types: Record<string, string> | undefined): string | undefined {
  if (!types) return undefined;
  return Object.entries(types).map(([ext, type]) => `${ext}=${type}`).join(",");
}

// The caller sends the body in chunks: reply() then must not set Content-Length.
function chunked(headers: Headers | undefined): boolean {
  if (!headers) return false;
  return Object.entries(headers).some(([name, value]) =>
    name.toLowerCase() === "transfer-encoding" && /\bchunked\b/i.test(String(value)));
}

export interface MqttPubOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
  /** MQTT 5 only (mqttConnect with version: 5). */
  properties?: MqttProperty[];
}

/** @internal Plain copies of MQTT properties: the native side then reads data, never getters. */
export function plainProperties(properties: MqttProperty[] | undefined): MqttProperty[] | undefined {
  return properties?.map(({ id, value, key }) => (key === undefined ? { id, value } : { id, value, key }));
}

export class Connection {
  /** Its own handler; when unset the Manager's handler gets its events. */
  declare handler: Handler | undefined;
  /** Anything the application wants to keep with the connection. */
  declare userdata: unknown;

  private constructor() {
    throw new TypeError("Connection objects are made by a Manager");
  }

  get id(): number {
    return native.connId(this);
  }
  setHandler(handler: Handler | undefined): void {
    this.handler = handler;
  }

  get isListening(): boolean { return (native.connFlags(this) & Flag.Listening) !== 0; }
  /** True once close() was called or mongoose is closing it (and after it is gone). */
  get isClosing(): boolean { return (native.connFlags(this) & Flag.Closing) !== 0; }
  get isClient(): boolean { return (native.connFlags(this) & Flag.Client) !== 0; }
  get isAccepted(): boolean { return (native.connFlags(this) & Flag.Accepted) !== 0; }
  get isTls(): boolean { return (native.connFlags(this) & Flag.Tls) !== 0; }
  get isUdp(): boolean { return (native.connFlags(this) & Flag.Udp) !== 0; }
  get isWebsocket(): boolean { return (native.connFlags(this) & Flag.Websocket) !== 0; }
  get isReadable(): boolean { return (native.connFlags(this) & Flag.Readable) !== 0; }
  get isWritable(): boolean { return (native.connFlags(this) & Flag.Writable) !== 0; }
  get isFull(): boolean { return (native.connFlags(this) & Flag.Full) !== 0; }
  set isFull(full: boolean) { native.connSetFull(this, full); }
  get isDraining(): boolean { return (native.connFlags(this) & Flag.Draining) !== 0; }

  get localAddr(): Address | undefined { return native.connAddr(this, false); }
  get remoteAddr(): Address | undefined { return native.connAddr(this, true); }

  /** Bytes received and not yet consumed. */
  get recvLen(): number { return native.connBuffers(this)[0]; }
  get recvSize(): number { return native.connBuffers(this)[1]; }
  /** Bytes queued and not yet sent. */
  get sendLen(): number { return native.connBuffers(this)[2]; }
  get sendSize(): number { return native.connBuffers(this)[3]; }

  /** Takes up to max received bytes (all by default) out of the receive buffer. */
  recv(max = -1): Uint8Array {
    return native.connRecv(this, max);
  }
  /** A copy of the receive buffer, left in place. */
  recvData(): Uint8Array {
    return native.connPeek(this, 0);
  }
  /** A copy of the bytes queued for sending. */
  sendData(): Uint8Array {
    return native.connPeek(this, 1);
  }
  /** Queues raw bytes; false when mongoose could not grow the send buffer. */
  send(data: Bytes): boolean {
    return native.connSend(this, data);
  }

  /**
   * A complete HTTP response; binary-safe, Content-Length is set for you. With a
   * "Transfer-Encoding: chunked" header the body (if any) goes as the first chunk
   * and the response stays open: go on with httpChunk/httpSse, end with httpChunk("").
   * reason replaces the standard phrase ("OK", "Not Found", ...).
   */
  reply(status: number, body: Bytes = "", headers?: Headers, reason?: string): void {
    if (reason !== undefined && /[\r\n\0]/.test(reason))
      throw new TypeError("an HTTP reason phrase cannot contain CR, LF or NUL");
    native.connReply(this, status, headerLines(headers, "content-length"), body, reason, chunked(headers));
  }
  replyJson(value: unknown, status = 200, headers?: Headers): void {
    const text = JSON.stringify(value) ?? "null";
    this.reply(status, text, { "Content-Type": "application/json", ...headers });
  }
  /**
   * Serves files under options.rootDir for this request (ETag, Range, index.html,
   * listings). Throws a TypeError, before sending anything, when rootDir is missing
   * or empty: mongoose would then serve the whole file system.
   */
  serveDir(msg: HttpMessage, options: ServeOptions): void {
    if (typeof options?.rootDir !== "string" || options.rootDir === "")
      throw new TypeError("serveDir: options.rootDir is required (the folder to serve); without it mongoose would serve the whole file system");
    native.connServe(this, msg, undefined, options.rootDir, headerLines(options.extraHeaders) || undefined,
      mimeTypes(options.mimeTypes), options.page404);
  }
  /** Serves one file for this request (ETag, Range, 304s). */
  serveFile(msg: HttpMessage, path: string, options?: Omit<ServeOptions, "rootDir" | "page404">): void {
    native.connServe(this, msg, path, undefined, headerLines(options?.extraHeaders) || undefined,
      mimeTypes(options?.mimeTypes), undefined);
  }
  /** One chunk of a chunked response (after sending "Transfer-Encoding: chunked" headers); "" ends it. */
  httpChunk(data: Bytes): void {
    native.connHttpChunk(this, data);
  }
  /** One server-sent event, as a chunk of a text/event-stream response. */
  httpSse(event: string, data: string): void {
    if (/[\r\n]/.test(event)) throw new TypeError("an SSE event name cannot contain CR or LF");
    const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`).join("");
    this.httpChunk(`event: ${event}\n${lines}\n`);
  }
  /** Adds an "Authorization: Basic" header line to an outgoing request: call it after sending the request line and before the blank line that ends the headers. */
  httpBasicAuth(user: string, password: string): void {
    native.connBasicAuth(this, user, password);
  }
  /** Answers a WebSocket upgrade request; WS_OPEN follows. */
  wsUpgrade(msg: HttpMessage, headers?: Headers): void {
    native.connWsUpgrade(this, msg, headerLines(headers));
  }
  /** Sends one WebSocket frame; returns the bytes queued. */
  wsSend(data: Bytes, op: number = WEBSOCKET_OP_TEXT): number {
    return native.connWsSend(this, data, op);
  }
  /**
   * Starts the WebSocket closing handshake: a close frame with code and reason
   * (at most 123 UTF-8 bytes). The connection ends when the peer answers with its
   * own close frame, which arrives as WS_CTL (mongoose then drains and closes).
   */
  wsClose(code = 1000, reason = ""): number {
    if (!Number.isInteger(code) || code < 1000 || code > 4999)
      throw new RangeError(`WebSocket close code must be an integer in 1000..4999, got ${code}`);
    return nativeNet.connWsClose(this, code, reason);
  }

  /**
   * Publishes; returns the packet id (0 for QoS 0). The broker's PUBACK (QoS 1) or
   * PUBREC (QoS 2, mongoose completes the exchange) arrives as MQTT_CMD with that id;
   * mongoose does not resend, even when no acknowledgement comes.
   */
  mqttPub(topic: string, message: Bytes, options: MqttPubOptions = {}): number {
    return nativeMqtt.connMqttPub(this, topic, message, options.qos ?? 0, options.retain ?? false, plainProperties(options.properties));
  }
  /** Subscribes to a topic filter; returns the packet id, which the SUBACK (MQTT_CMD) carries. */
  mqttSub(topic: string, qos: 0 | 1 | 2 = 0): number {
    return nativeMqtt.connMqttSub(this, topic, qos);
  }
  /** Unsubscribes from a topic filter; returns the packet id, which the UNSUBACK carries. */
  mqttUnsub(topic: string): number {
    return nativeMqtt.connMqttUnsub(this, topic);
  }
  /** Sends PINGREQ; the broker's PINGRESP arrives as MQTT_CMD. */
  mqttPing(): void {
    nativeMqtt.connMqttPing(this);
  }
  /** Sends PINGRESP (a server's answer to PINGREQ, for mqttListen). */
  mqttPong(): void {
    nativeMqtt.connMqttPong(this);
  }
  /** Sends DISCONNECT: the broker then drops the will. close() after it. */
  mqttDisconnect(): void {
    nativeMqtt.connMqttDisconnect(this);
  }
  /** Sends an MQTT fixed header; send() the length bytes that follow (for mqttListen servers). */
  mqttSendHeader(cmd: number, flags: number, length: number): void {
    nativeMqtt.connMqttSendHeader(this, cmd, flags, length);
  }
  /** Asks the server of an sntpConnect connection again (mongoose sends the first request itself). */
  sntpRequest(): void {
    nativeSntp.connSntpRequest(this);
  }

  /**
   * Sets up TLS: on ACCEPT for a server connection, on CONNECT (or right after
   * connect()) for a client. TLS_HS follows a client's handshake (mongoose reports
   * none for a server's); failures arrive as ERROR.
   */
  tlsInit(options: TlsOptions): void {
    checkTlsOptions("tlsInit", options, this.isClient);
    nativeTls.connTlsInit(this, options.ca, options.cert, options.key, options.name, options.skipVerification ?? false);
  }
  /**
   * Drops the TLS state (mongoose frees it on close anyway). A connection whose
   * peer already speaks TLS cannot go on in plain text: it is closed too.
   */
  tlsFree(): void {
    nativeTls.connTlsFree(this);
  }

  /**
   * Re-targets a client connection whose host name is still being resolved: the
   * pending lookup is dropped, url is resolved and connected instead (RESOLVE, then
   * CONNECT, or ERROR). Any other connection throws: mongoose would give it a new
   * socket. "localhost" and IP addresses resolve at once, without DNS.
   */
  resolve(url: string): void {
    native.connResolve(this, url);
  }
  resolveCancel(): void {
    native.connResolveCancel(this);
  }
  /** Fires ERROR with the message, then closes the connection. */
  error(message: string): void {
    native.connError(this, message);
  }
  /** Sends what is queued, then closes. */
  drain(): void {
    native.connDrain(this);
  }
  /** Closes now (after this poll); safe inside handlers, idempotent. */
  close(): void {
    native.connClose(this);
  }
}
