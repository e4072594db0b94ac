// SPDX-License-Identifier: MIT
// The MQTT client's outgoing messages until their QoS flow completes: queued
// while offline, in flight on a connection, handed again to the next connection
// after a drop (with DUP and their packet id, or as PUBREL once PUBREC came).
// Bounded: a full outbox refuses a publish, it never drops a message.
import { MQTT_CMD_PUBACK as PUBACK, MQTT_CMD_PUBCOMP as PUBCOMP, MQTT_CMD_PUBREC as PUBREC, type MqttProperty } from "mongoose/messages";
import type { Bytes } from "mongoose/bytes";
import { deferred, ignore, type Deferred } from "mongoose/deferred";

/** One message of MqttClient.publish, from the call until its flow completes. */
export interface Outgoing {
  readonly topic: string;
  readonly payload: Bytes;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly properties: MqttProperty[] | undefined;
  /** The packet id mongoose gave it when first written (QoS 1 and 2), else 0. */
  id: number;
  /** The connection (its id) it was last handed to; 0 when never. */
  conn: number;
  /** While a write to conn is queued: settles (never rejects) once it is done or failed. */
  writing: Promise<void> | undefined;
  /** QoS 2: the broker's PUBREC came (mongoose answered PUBREL); PUBCOMP is awaited. */
  released: boolean;
  readonly done: Deferred<void>;
}

export class Outbox {
  readonly #limit: number;
  /** In publish order, which is the order of (re)sending. */
  readonly #all = new Set<Outgoing>();
  readonly #byId = new Map<number, Outgoing>();
  /**
   * Acknowledgements whose packet id is not known yet: the poll task may report
   * the ack in the same batch as the write that gives the id, and the write's
   * promise settles after the batch. Emptied by every new connection.
   */
  readonly #early = new Map<number, number>();
  /** Called when the outbox becomes empty (MqttClient.end waits for it). */
  onEmpty: (() => void) | undefined;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get size(): number {
    return this.#all.size;
  }

  /** A new message; throws when limit messages are already waiting. */
  add(topic: string, payload: Bytes, qos: 0 | 1 | 2, retain: boolean, properties: MqttProperty[] | undefined): Outgoing {
    if (this.#all.size >= this.#limit)
      throw new Error(`MQTT publish to ${topic}: ${this.#all.size} messages already wait for delivery (the client's maxPending)`);
    // A copy: the caller may reuse its buffer while the message waits offline.
    const kept = typeof payload === "string" ? payload : new Uint8Array(payload instanceof ArrayBuffer ? payload.slice(0) : payload.slice());
    const done = deferred<void>();
    done.promise.catch(ignore);  // the caller may never await a QoS 0 publish
    const entry: Outgoing = { topic, payload: kept, qos, retain, properties, id: 0, conn: 0, writing: undefined, released: false, done };
    this.#all.add(entry);
    return entry;
  }

  /** Every message, in publish order (entries added while iterating are visited too). */
  entries(): IterableIterator<Outgoing> {
    return this.#all.values();
  }

  /** Settles once every write queued for an earlier connection has succeeded or failed. */
  writesSettled(): Promise<void> {
    const writes: Array<Promise<void>> = [];
    for (const entry of this.#all) if (entry.writing) writes.push(entry.writing);
    return Promise.all(writes).then(ignore);
  }

  /** A new connection: acknowledgements of the last one are gone with it. */
  newConnection(): void {
    this.#early.clear();
  }

  /** entry's write succeeded, giving its packet id (0 for QoS 0). */
  written(entry: Outgoing, id: number): void {
    if (entry.qos === 0) {
      this.#finish(entry);
      return;
    }
    entry.id = id;
    this.#byId.set(id, entry);
    const early = this.#early.get(id);
    if (early !== undefined) {
      this.#early.delete(id);
      this.acknowledged(early, id, 0);
    }
  }

  /**
   * The broker's PUBACK, PUBREC or PUBCOMP (cmd) for id; reason: MQTT 5's reason
   * code (0 for 3.1.1). A refusal (0x80 and up) rejects the publish.
   */
  acknowledged(cmd: number, id: number, reason: number): void {
    const entry = this.#byId.get(id);
    if (!entry) {
      this.#early.set(id, cmd);
      return;
    }
    if (reason >= 0x80) {
      this.#finish(entry, new Error(`MQTT publish to ${entry.topic}: the broker refused it (reason code 0x${reason.toString(16)})`));
      return;
    }
    if (cmd === PUBREC && entry.qos === 2) entry.released = true;
    else if ((cmd === PUBACK && entry.qos === 1) || (cmd === PUBCOMP && entry.qos === 2)) this.#finish(entry);
  }

  /** entry cannot be sent (its write failed on a live connection). */
  fail(entry: Outgoing, error: Error): void {
    this.#finish(entry, error);
  }

  /** Rejects every message still waiting with error (the client ended). */
  failAll(error: Error): void {
    for (const entry of [...this.#all]) this.#finish(entry, error);
  }

  #finish(entry: Outgoing, error?: Error): void {
    this.#all.delete(entry);
    if (entry.id && this.#byId.get(entry.id) === entry) this.#byId.delete(entry.id);
    if (error) entry.done.reject(error);
    else entry.done.resolve();
    if (this.#all.size === 0) this.onEmpty?.();
  }
}
