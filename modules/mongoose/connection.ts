// SPDX-License-Identifier: MIT
// Connection: one mongoose connection of a Manager. Instances are made by C (they
// arrive in handlers and come back from listen/connect). Methods are safe inside
// handlers: close() only marks the connection, mongoose frees it after the poll.
// Once closed, every method but the getters throws "connection N is closed".
import * as native from "mongoose/native";
// reply() runs once per request: named imports spare it the namespace lookup.
import { connReply, connReplyFast } from "mongoose/native";
import * as nativeTls from "mongoose/native-tls";
import * as nativeMqtt from "mongoose/native-mqtt";
import * as nativeSntp from "mongoose/native-sntp";
import { checkTlsOptions, type TlsOptions } from "mongoose/tls";
import { WEBSOCKET_OP_CLOSE, WEBSOCKET_OP_TEXT } from "mongoose/constants";
import { chunked, headerLines, type Headers } from "mongoose/headers";
import type { HttpMessage, WsMessage, MqttMessage, MqttProperty } from "mongoose/messages";
import { wsClosePayload, type Bytes } from "mongoose/bytes";
import { ConnectionSurface } from "mongoose/connection-surface";

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

function mimeTypes(types: Record<string, string> | undefined): string | undefined {
  if (!types) return undefined;
  return Object.entries(types).map(([ext, type]) => `${ext}=${type}`).join(",");
}

export class Connection extends ConnectionSurface<void, number> {
  /** Its own handler; when unset the Manager's handler gets its events. */
  declare handler: Handler | undefined;
  /** Anything the application wants to keep with the connection. */
  declare userdata: unknown;

  private constructor() {
    super();
    throw new TypeError("Connection objects are made by a Manager");
  }

  get id(): number {
    return native.connId(this);
  }
  setHandler(handler: Handler | undefined): void {
    this.handler = handler;
  }

  protected override _flags(): number { return native.connFlags(this); }
  override get isFull(): boolean { return super.isFull; }
  /** Sets (or clears) mongoose's is_full: mongoose stops reading the connection. */
  override set isFull(full: boolean) { native.connSetFull(this, full); }

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
  override reply(status: number, body: Bytes = "", headers?: Headers, reason?: string): void {
    if (reason !== undefined && /[\r\n\0]/.test(reason))
      throw new TypeError("an HTTP reason phrase cannot contain CR, LF or NUL");
    if (headers === undefined) connReply(this, status, "", body, reason, false);
    else connReply(this, status, headerLines(headers, "content-length"), body, reason, chunked(headers));
  }
  // reply(status, body), most replies, is C's connReplyFast itself: no JavaScript
  // frame (about 1,150 instructions a request less, callgrind). It calls the
  // method above, kept as _reply, when given headers or a reason.
  static {
    Object.defineProperty(Connection.prototype, "_reply", { value: Connection.prototype.reply, writable: true, configurable: true });
    Object.defineProperty(Connection.prototype, "reply", { value: connReplyFast, writable: true, configurable: true });
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
  override httpChunk(data: Bytes): void {
    native.connHttpChunk(this, data);
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
    return native.connWsSend(this, wsClosePayload(code, reason), WEBSOCKET_OP_CLOSE);
  }

  protected override _mqttPub(topic: string, message: Bytes, qos: number, retain: boolean,
    properties: MqttProperty[] | undefined): number {
    return nativeMqtt.connMqttPub(this, topic, message, qos, retain, properties);
  }
  protected override _mqttSub(topic: string, qos: number | undefined): number {
    return nativeMqtt.connMqttSub(this, topic, qos);
  }
  protected override _mqttControl(cmd: number): void {
    nativeMqtt.connMqttControl(this, cmd);
  }
  override mqttSendHeader(cmd: number, flags: number, length: number): void {
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
