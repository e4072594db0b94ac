// SPDX-License-Identifier: MIT
// The MQTT client's outgoing messages until their QoS flow completes: queued
// while offline, in flight on a connection, handed again to the next connection
// after a drop (with DUP and their packet id, or as PUBREL once PUBREC came).
// Bounded: a full outbox refuses a publish, it never drops a message.
import { MQTT_CMD_PUBACK as PUBACK, MQTT_CMD_PUBCOMP as PUBCOMP, MQTT_CMD_PUBREC as PUBREC } from "mongoose/constants";
import type { MqttProperty } from "mongoose/messages";
import type { Bytes } from "mongoose/bytes";
import { deferred, ignore, type Deferred } from "mongoose/deferred";
import { freeId } from "mongoose/mqtt-packets";

/** One message of MqttClient.publish, from the call until its flow completes. */
export interface Outgoing {
  readonly topic: string;
  readonly payload: Bytes;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly properties: MqttProperty[] | undefined;
  /**
   * Its packet id (QoS 1 and 2), the client's own: known before the PUBLISH is
   * queued, so that no completion has to cross back to learn it. 0 for QoS 0.
   */
  readonly id: number;
  /** The connection (its id) it was last handed to; 0 when never. */
  conn: number;
  /** QoS 2: the broker's PUBREC came (mongoose answered PUBREL); PUBCOMP is awaited. */
  released: boolean;
  readonly done: Deferred<void>;
}

export class Outbox {
  /** In publish order, which is the order of (re)sending. */
  readonly #all = new Set<Outgoing>();
  readonly #byId = new Map<number, Outgoing>();
  #lastId = 0;
  /** Called when the outbox becomes empty (MqttClient.end waits for it). */
  onEmpty: (() => void) | undefined;

  /** heldElsewhere: packet ids the client's SUBSCRIBE and UNSUBSCRIBE hold, which MQTT shares with PUBLISH's. */
  constructor(private readonly limit: number, private readonly heldElsewhere: (id: number) => boolean) {}

  /** A packet id no message nor SUBSCRIBE or UNSUBSCRIBE holds. */
  nextId(): number {
    // At most limit (65,535) messages and the subscriptions' hold ids: freeId throws when none is left.
    return (this.#lastId = freeId(this.#lastId, { has: (id) => this.#byId.has(id) || this.heldElsewhere(id) }));
  }

  get size(): number {
    return this.#all.size;
  }

  /** A new message; throws when limit messages are already waiting. */
  add(topic: string, payload: Bytes, qos: 0 | 1 | 2, retain: boolean, properties: MqttProperty[] | undefined): Outgoing {
    if (this.#all.size >= this.limit)
      throw new Error(`MQTT publish to ${topic}: ${this.#all.size} messages already wait for delivery (the client's maxPending)`);
    // A copy: the caller may reuse its buffer while the message waits offline.
    const kept = typeof payload === "string" ? payload : new Uint8Array(payload.slice(0));
    const done = deferred<void>();
    done.promise.catch(ignore);  // the caller may never await a QoS 0 publish
    const id = qos ? this.nextId() : 0;
    const entry: Outgoing = { topic, payload: kept, qos, retain, properties, id, conn: 0, released: false, done };
    this.#all.add(entry);
    if (id) this.#byId.set(id, entry);
    return entry;
  }

  /** Every message, in publish order (entries added while iterating are visited too). */
  entries(): IterableIterator<Outgoing> {
    return this.#all.values();
  }

  /**
   * The broker's PUBACK, PUBREC or PUBCOMP (cmd) for id; reason: MQTT 5's reason
   * code (0 for 3.1.1). A refusal (0x80 and up) rejects the publish.
   */
  acknowledged(cmd: number, id: number, reason: number): void {
    const entry = this.#byId.get(id);
    if (!entry) return;  // a late or repeated acknowledgement
    if (reason >= 0x80) {
      this.finish(entry, new Error(`MQTT publish to ${entry.topic}: the broker refused it (reason code 0x${reason.toString(16)})`));
      return;
    }
    if (cmd === PUBREC && entry.qos === 2) entry.released = true;
    else if ((cmd === PUBACK && entry.qos === 1) || (cmd === PUBCOMP && entry.qos === 2)) this.finish(entry);
  }

  /** Rejects every message still waiting with error (the client ended). */
  failAll(error: Error): void {
    for (const entry of [...this.#all]) this.finish(entry, error);
  }

  /** entry is done: sent (QoS 0), acknowledged, or failed with error. */
  finish(entry: Outgoing, error?: Error): void {
    this.#all.delete(entry);
    if (entry.id && this.#byId.get(entry.id) === entry) this.#byId.delete(entry.id);
    if (error) entry.done.reject(error);
    else entry.done.resolve();
    if (this.#all.size === 0) this.onEmpty?.();
  }
}
