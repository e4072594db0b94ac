// SPDX-License-Identifier: MIT
// Event payloads. Instances are made by the native layer and read mongoose's
// buffers directly, so they are valid while the handler runs; a message kept
// past its handler reads as empty. Copy what you need (body, text) to keep it.
// Named imports: XS looks a namespace's property (native.hmField) up on every
// call, and handlers read HTTP and WebSocket messages on every request.
import { hmBody, hmBodyText, hmCredentials, hmField, hmHeader, hmHeaders, hmStatus, hmVar, wmData, wmFlags, wmText } from "mongoose/native";
import * as nativeMqtt from "mongoose/native-mqtt";
import { MQTT_CMD_PUBLISH, WEBSOCKET_OP_CLOSE } from "mongoose/constants";

export class HttpMessage {
  /** @internal made by mongoose alone (serve's Request is one, with text() and json()) */
  protected constructor() {
    throw new TypeError("HttpMessage objects are made by mongoose");
  }
  /** "GET", "POST", ... (empty for a response). */
  get method(): string {
    return hmField(this, 0);
  }
  /** The path, without the query string; for a response, the status code. */
  get uri(): string {
    return hmField(this, 1);
  }
  /** The query string, without "?". */
  get query(): string {
    return hmField(this, 2);
  }
  /** "HTTP/1.1"; for a response, its reason phrase. */
  get proto(): string {
    return hmField(this, 3);
  }
  /** The request line and headers as received. */
  get head(): string {
    return hmField(this, 4);
  }
  /** [name, value] pairs in arrival order (mongoose keeps at most 30). */
  get headers(): Array<[string, string]> {
    return hmHeaders(this);
  }
  /** The first value of a header, case-insensitively. */
  header(name: string): string | undefined {
    return hmHeader(this, name);
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
    return hmVar(this, name, false);
  }
  /** A URL-decoded variable of an application/x-www-form-urlencoded body. */
  formVar(name: string): string | undefined {
    return hmVar(this, name, true);
  }
  /** A copy of the body, binary-safe. */
  get body(): Uint8Array {
    return hmBody(this);
  }
  /** The body as UTF-8 text. */
  get bodyText(): string {
    return hmBodyText(this);
  }
  /** The status code of a response (0 for a request). */
  status(): number {
    return hmStatus(this);
  }
  /** User and password of Basic authentication (["", token] for Bearer), if any. */
  credentials(): { user: string; password: string } | undefined {
    const pair = hmCredentials(this);
    return pair && { user: pair[0], password: pair[1] };
  }
}

export class WsMessage {
  private constructor() {
    throw new TypeError("WsMessage objects are made by mongoose");
  }
  /** A copy of the payload. */
  get data(): Uint8Array {
    return wmData(this);
  }
  /** The payload as UTF-8 text. */
  get text(): string {
    return wmText(this, 0);
  }
  /** WEBSOCKET_OP_TEXT, _BINARY, _CLOSE, _PING or _PONG. */
  get opcode(): number {
    return wmFlags(this) & 0x0f;
  }
  /** The raw first header byte (FIN 0x80, opcode 0x0f). */
  get flags(): number {
    return wmFlags(this);
  }
  get fin(): boolean {
    return (wmFlags(this) & 0x80) !== 0;
  }
  /** A close frame's status code (1005 when it carries none), else undefined. */
  get closeCode(): number | undefined {
    if (this.opcode !== WEBSOCKET_OP_CLOSE) return undefined;
    const data = this.data;
    return data.length >= 2 ? (data[0] << 8) | data[1] : 1005;
  }
  /** A close frame's reason, else undefined. */
  get closeReason(): string | undefined {
    return this.opcode === WEBSOCKET_OP_CLOSE ? wmText(this, 2) : undefined;
  }
}

/**
 * An MQTT 5 property. value is a number for integer properties, a Uint8Array for
 * CORRELATION_DATA and AUTHENTICATION_DATA, else a string; a USER_PROPERTY also
 * has a key.
 */
export interface MqttProperty {
  id: number;
  value: number | string | Uint8Array;
  key?: string;
}

/**
 * A received MQTT packet (MQTT_CMD for every packet, MQTT_MSG for PUBLISH).
 * mongoose parses the fixed header and, for acknowledgements and PUBLISH, the
 * packet id; topic, data and properties are those of a PUBLISH. For anything
 * else (CONNECT or SUBSCRIBE at an mqttListen server) read packet.
 */
export class MqttMessage {
  private constructor() {
    throw new TypeError("MqttMessage objects are made by mongoose");
  }
  get topic(): string {
    return nativeMqtt.mmTopic(this);
  }
  /** A copy of the payload. */
  get data(): Uint8Array {
    return nativeMqtt.mmData(this, false);
  }
  /** The payload as UTF-8 text. */
  get text(): string {
    return nativeMqtt.mmData(this, true);
  }
  /** The packet id (PUBLISH with QoS > 0 and acknowledgements), else 0. */
  get id(): number {
    return nativeMqtt.mmField(this, 0);
  }
  /** MQTT_CMD_PUBLISH, MQTT_CMD_SUBACK, ... */
  get cmd(): number {
    return nativeMqtt.mmField(this, 1);
  }
  get qos(): number {
    return nativeMqtt.mmField(this, 2);
  }
  /** A CONNACK's return code (0: accepted). */
  get ack(): number {
    return nativeMqtt.mmField(this, 3);
  }
  /** A PUBLISH's retain flag: the broker sent a stored message. */
  get retain(): boolean {
    return this.cmd === MQTT_CMD_PUBLISH && (nativeMqtt.mmField(this, 4) & 1) !== 0;
  }
  /** A copy of the whole packet, fixed header included. */
  get packet(): Uint8Array {
    return nativeMqtt.mmPacket(this);
  }
  /** The MQTT 5 properties of a PUBLISH, in packet order (empty for MQTT 3.1.1). */
  get properties(): MqttProperty[] {
    return nativeMqtt.mmProperties(this);
  }
}
