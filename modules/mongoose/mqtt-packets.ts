// SPDX-License-Identifier: MIT
// The MQTT packets a broker reads whole (CONNECT, SUBSCRIBE, UNSUBSCRIBE: mongoose
// parses only their fixed header) and those it answers with (CONNACK, SUBACK,
// UNSUBACK), for MQTT 3.1, 3.1.1 and 5. PUBLISH, its acknowledgements and PINGs
// are mongoose's (and c/xm_am_broker.c's fan-out). Also what the broker and the
// client (mqtt-client.ts) share: reason codes, packet ids, the PUBREL it re-sends,
// and the client's SUBSCRIBE and UNSUBSCRIBE (with its own packet ids).
import { MQTT_CMD_CONNACK, MQTT_CMD_SUBACK, MQTT_CMD_SUBSCRIBE, MQTT_CMD_UNSUBACK, MQTT_CMD_UNSUBSCRIBE } from "mongoose/constants";
import {
  XM_MQTT_PROP_KIND_BINARY, XM_MQTT_PROP_KIND_BYTE, XM_MQTT_PROP_KIND_FOUR_BYTES, XM_MQTT_PROP_KIND_PAIR,
  XM_MQTT_PROP_KIND_STRING, XM_MQTT_PROP_KIND_TWO_BYTES, XM_MQTT_PROP_KIND_VARINT,
} from "mongoose/wire";
import { mqttPropKind } from "mongoose/native-mqtt";
import { utf8 } from "mongoose/bytes";

/** A packet that breaks the protocol: the broker closes its connection. */
export class Malformed extends Error {}

// XS's String.fromArrayBuffer (not in TypeScript's lib): UTF-8 bytes as a string.
export const XsString = String as unknown as { fromArrayBuffer(buffer: ArrayBuffer): string };

class Reader {
  at: number;
  constructor(readonly p: Uint8Array) {
    // After the fixed header: its byte and the remaining length's.
    let i = 1;
    while (i < p.length && p[i] & 0x80) i++;
    this.at = i + 1;
  }
  get left(): number { return this.p.length - this.at; }
  u8(): number {
    if (this.at >= this.p.length) throw new Malformed("packet ends early");
    return this.p[this.at++];
  }
  u16(): number {
    return (this.u8() << 8) | this.u8();
  }
  bytes(): Uint8Array {
    const n = this.u16();
    if (n > this.left) throw new Malformed("a length runs past the packet");
    this.at += n;
    return this.p.slice(this.at - n, this.at);
  }
  text(): string {
    const b = this.bytes();
    try {
      return XsString.fromArrayBuffer(b.buffer as ArrayBuffer);
    } catch {
      throw new Malformed("a string is not UTF-8");
    }
  }
  varint(): number {
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const b = this.u8();
      value += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return value;
    }
    throw new Malformed("a variable integer is longer than 4 bytes");
  }
  /** MQTT 5 properties: the integer ones by id (the others are skipped). */
  properties(): Map<number, number> {
    const found = new Map<number, number>();
    const length = this.varint();
    const end = this.at + length;
    if (end > this.p.length) throw new Malformed("properties run past the packet");
    while (this.at < end) {
      const id = this.u8();
      const kind = mqttPropKind(id);
      if (kind === XM_MQTT_PROP_KIND_BYTE) found.set(id, this.u8());
      else if (kind === XM_MQTT_PROP_KIND_TWO_BYTES) found.set(id, this.u16());
      else if (kind === XM_MQTT_PROP_KIND_FOUR_BYTES) found.set(id, this.u16() * 0x10000 + this.u16());
      else if (kind === XM_MQTT_PROP_KIND_VARINT) found.set(id, this.varint());
      else if (kind === XM_MQTT_PROP_KIND_STRING || kind === XM_MQTT_PROP_KIND_BINARY) found.set(id, this.bytes().length);
      else if (kind === XM_MQTT_PROP_KIND_PAIR) this.bytes(), this.bytes();
      else throw new Malformed(`unknown property ${id}`);
    }
    if (this.at !== end) throw new Malformed("properties run past their length");
    return found;
  }
}

export interface Will {
  topic: string;
  payload: Uint8Array;
  qos: number;
  retain: boolean;
}

export interface Connect {
  /** The protocol level: 3 (MQTT 3.1), 4 (3.1.1) or 5; anything else is refused. */
  level: number;
  clean: boolean;
  /** Seconds; 0: none. */
  keepalive: number;
  clientId: string;
  username?: string;
  password?: Uint8Array;
  will?: Will;
  /** MQTT 5 properties (integers) of the CONNECT. */
  properties: Map<number, number>;
}

export function parseConnect(packet: Uint8Array): Connect {
  const r = new Reader(packet);
  const name = r.text();
  const level = r.u8();
  // A name and level that do not go together are refused as an unknown level.
  if (!((name === "MQTT" && (level === 4 || level === 5)) || (name === "MQIsdp" && level === 3)))
    return { level: 0, clean: true, keepalive: 0, clientId: "", properties: new Map() };
  const flags = r.u8();
  if (flags & 1) throw new Malformed("CONNECT's reserved flag is set");
  const keepalive = r.u16();
  const v5 = level === 5;
  const properties = v5 ? r.properties() : new Map<number, number>();
  const clientId = r.text();
  let will: Will | undefined;
  if (flags & 4) {
    if (v5) r.properties();
    const topic = r.text();
    will = { topic, payload: r.bytes(), qos: (flags >> 3) & 3, retain: (flags & 0x20) !== 0 };
    if (will.qos === 3) throw new Malformed("the will's QoS is 3");
  } else if (flags & 0x38) {
    throw new Malformed("will flags without a will");
  }
  const username = flags & 0x80 ? r.text() : undefined;
  const password = flags & 0x40 ? r.bytes() : undefined;
  return { level, clean: (flags & 2) !== 0, keepalive, clientId, username, password, will, properties };
}

export interface Subscription {
  filter: string;
  qos: number;
  /** MQTT 5 options: no messages of one's own, the retain flag as published, retain handling 0..2. */
  noLocal: boolean;
  asPublished: boolean;
  retainHandling: number;
}

// A SUBSCRIBE's or UNSUBSCRIBE's (name) packet id and its entries, one at least, each read by entry.
function parseFilters<T>(packet: Uint8Array, v5: boolean, name: string, entry: (r: Reader) => T): { id: number; list: T[] } {
  if ((packet[0] & 15) !== 2) throw new Malformed(`${name}'s flags are not 2`);
  const r = new Reader(packet);
  const id = r.u16();
  if (v5) r.properties();
  const list: T[] = [];
  while (r.left > 0) list.push(entry(r));
  if (!list.length) throw new Malformed(`${name} has no filter`);
  return { id, list };
}

/** A SUBSCRIBE's packet id and filters (a filter's faults are the broker's to answer). */
export function parseSubscribe(packet: Uint8Array, v5: boolean): { id: number; list: Subscription[] } {
  return parseFilters(packet, v5, "SUBSCRIBE", (r) => {
    const filter = r.text();
    const options = r.u8();
    if (options & 0xc0 || (options & 3) === 3 || (options >> 4 & 3) === 3 || (!v5 && options & 0xfc))
      throw new Malformed("a subscription's options are invalid");
    return { filter, qos: options & 3, noLocal: (options & 4) !== 0, asPublished: (options & 8) !== 0,
      retainHandling: (options >> 4) & 3 };
  });
}

export function parseUnsubscribe(packet: Uint8Array, v5: boolean): { id: number; list: string[] } {
  return parseFilters(packet, v5, "UNSUBSCRIBE", (r) => r.text());
}

/**
 * An MQTT 5 DISCONNECT's (withId false) or acknowledgement's reason code: the
 * byte after the fixed header or the packet id; 0 (success) when the packet
 * stops there, as it always does in 3.1.1.
 */
export function reasonCode(packet: Uint8Array, withId: boolean): number {
  const r = new Reader(packet);
  r.at += withId ? 2 : 0;
  return r.left > 0 ? r.u8() : 0;
}

/** The packet id after `after` (1 to 65535, then 1 again) that used does not hold; throws when it holds them all. */
export function freeId(after: number, used: { has(id: number): boolean }): number {
  for (let tried = 0; tried < 0xffff; tried++) {
    after = after === 0xffff ? 1 : after + 1;
    if (!used.has(after)) return after;
  }
  throw new Error("every MQTT packet id (1 to 65,535) is in use");
}

export function packet(first: number, body: number[]): Uint8Array {
  const head = [first];
  let n = body.length;
  do {
    head.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>= 7;
  } while (n > 0);
  return new Uint8Array([...head, ...body]);
}

/** A property as bytes: a byte or a string (an assigned client id). */
export type OutProperty = [id: number, value: number | string];

function properties(list: OutProperty[]): number[] {
  const body: number[] = [];
  for (const [id, value] of list) {
    body.push(id);
    if (typeof value === "number") body.push(value);
    else {
      const text = utf8(value);
      body.push(text.length >> 8, text.length & 0xff, ...text);
    }
  }
  return [body.length, ...body];  // every list here is under 128 bytes
}

export function connack(v5: boolean, present: boolean, code: number, props: OutProperty[] = []): Uint8Array {
  return packet(MQTT_CMD_CONNACK << 4, [present ? 1 : 0, code, ...(v5 ? properties(props) : [])]);
}

export function suback(v5: boolean, id: number, codes: number[]): Uint8Array {
  return packet(MQTT_CMD_SUBACK << 4, [id >> 8, id & 0xff, ...(v5 ? [0] : []), ...codes]);
}

/** A client's SUBSCRIBE of one filter (with qos), or its UNSUBSCRIBE (without); MQTT 5's with no properties. */
export function subscribe(v5: boolean, id: number, filter: string, qos?: 0 | 1 | 2): Uint8Array {
  const text = utf8(filter);
  const first = (qos === undefined ? MQTT_CMD_UNSUBSCRIBE : MQTT_CMD_SUBSCRIBE) << 4 | 2;
  return packet(first, [id >> 8, id & 0xff, ...(v5 ? [0] : []), text.length >> 8, text.length & 0xff, ...text,
    ...(qos === undefined ? [] : [qos])]);
}

/** MQTT 3.1.1's UNSUBACK is the id alone; 5's has a reason code per filter. */
export function unsuback(v5: boolean, id: number, codes: number[]): Uint8Array {
  return packet(MQTT_CMD_UNSUBACK << 4, [id >> 8, id & 0xff, ...(v5 ? [0, ...codes] : [])]);
}
