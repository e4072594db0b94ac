// SPDX-License-Identifier: MIT
// Event payloads. Instances are made by the native layer and read mongoose's
// buffers directly, so they are valid while the handler runs; a message kept
// past its handler reads as empty. Copy what you need (body, text) to keep it.
import * as native from "mongoose/native";
import { WEBSOCKET_OP_CLOSE } from "mongoose/constants";

export class HttpMessage {
  private constructor() {
    throw new TypeError("HttpMessage objects are made by mongoose");
  }
  /** "GET", "POST", ... (empty for a response). */
  get method(): string {
    return native.hmField(this, 0);
  }
  /** The path, without the query string; for a response, the status code. */
  get uri(): string {
    return native.hmField(this, 1);
  }
  /** The query string, without "?". */
  get query(): string {
    return native.hmField(this, 2);
  }
  /** "HTTP/1.1"; for a response, its reason phrase. */
  get proto(): string {
    return native.hmField(this, 3);
  }
  /** The request line and headers as received. */
  get head(): string {
    return native.hmField(this, 4);
  }
  /** [name, value] pairs in arrival order (mongoose keeps at most 30). */
  get headers(): Array<[string, string]> {
    return native.hmHeaders(this);
  }
  /** The first value of a header, case-insensitively. */
  header(name: string): string | undefined {
    return native.hmHeader(this, name);
  }
  /**
   * A name=value part of a header, name compared case-insensitively, quotes removed:
   * headerVar("Content-Type", "boundary") of "multipart/form-data; boundary=xyz" is "xyz".
   */
  headerVar(header: string, name: string): string | undefined {
    const value = this.header(header);
    if (value === undefined) return undefined;
    const wanted = name.toLowerCase();
    for (const part of value.split(/[;,]/)) {
      const eq = part.indexOf("=");
      if (eq < 0 || part.slice(0, eq).trim().toLowerCase() !== wanted) continue;
      const v = part.slice(eq + 1).trim();
      return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
    }
    return undefined;
  }
  /** A URL-decoded query variable. */
  queryVar(name: string): string | undefined {
    return native.hmVar(this, name, false);
  }
  /** A URL-decoded variable of an application/x-www-form-urlencoded body. */
  formVar(name: string): string | undefined {
    return native.hmVar(this, name, true);
  }
  /** A copy of the body, binary-safe. */
  get body(): Uint8Array {
    return native.hmBody(this);
  }
  /** The body as UTF-8 text. */
  get bodyText(): string {
    return native.hmBodyText(this);
  }
  /** The status code of a response (0 for a request). */
  status(): number {
    return native.hmStatus(this);
  }
  /** User and password of Basic authentication (["", token] for Bearer), if any. */
  credentials(): { user: string; password: string } | undefined {
    const pair = native.hmCredentials(this);
    return pair && { user: pair[0], password: pair[1] };
  }
}

export class WsMessage {
  private constructor() {
    throw new TypeError("WsMessage objects are made by mongoose");
  }
  /** A copy of the payload. */
  get data(): Uint8Array {
    return native.wmData(this);
  }
  /** The payload as UTF-8 text. */
  get text(): string {
    return native.wmText(this, 0);
  }
  /** WEBSOCKET_OP_TEXT, _BINARY, _CLOSE, _PING or _PONG. */
  get opcode(): number {
    return native.wmFlags(this) & 0x0f;
  }
  /** The raw first header byte (FIN 0x80, opcode 0x0f). */
  get flags(): number {
    return native.wmFlags(this);
  }
  get fin(): boolean {
    return (native.wmFlags(this) & 0x80) !== 0;
  }
  /** A close frame's status code (1005 when it carries none), else undefined. */
  get closeCode(): number | undefined {
    if (this.opcode !== WEBSOCKET_OP_CLOSE) return undefined;
    const data = this.data;
    return data.length >= 2 ? (data[0] << 8) | data[1] : 1005;
  }
  /** A close frame's reason, else undefined. */
  get closeReason(): string | undefined {
    if (this.opcode !== WEBSOCKET_OP_CLOSE) return undefined;
    return native.wmText(this, 2);
  }
}

export class MqttMessage {
  private constructor() {
    throw new TypeError("MqttMessage objects are made by mongoose");
  }
}
