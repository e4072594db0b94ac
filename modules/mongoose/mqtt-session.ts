// SPDX-License-Identifier: MIT
// An MQTT session at the broker (mqtt-broker.ts): a client's subscriptions, the
// QoS 1 messages sent to it and not yet acknowledged (inflight, by packet id),
// those waiting for room in that window or for the client to come back (queue),
// and the QoS 2 ids it sent whose PUBREL has not come. What only some sessions
// need is made on first use: a connected client should cost little heap.
import type { AsyncConnection } from "mongoose/async-connection";
import { freeId, type Subscription, type Will } from "mongoose/mqtt-packets";

/** A message as the broker routes it: from a client, or from the firmware itself. */
export interface Routed {
  topic: string;
  payload: Uint8Array;
  qos: number;
  retain: boolean;
  /** The session that published it (for MQTT 5's no-local). */
  from?: Session;
}

/** A copy waiting to go to one session. */
export interface Pending {
  msg: Routed;
  qos: number;
  retain: boolean;
}

export class Session {
  conn: AsyncConnection | undefined;
  /** MQTT 5 packets (the protocol level 5). */
  v5 = false;
  /** Kept when the client goes (3.1.1's clean session 0, or 5's session expiry > 0). */
  persistent = false;
  /** MQTT 5 session expiry, ms; Infinity: never. */
  expiry = Infinity;
  /** When the client went, for expiry and for evicting the longest gone first. */
  offlineSince = 0;
  /** The client's keepalive in ms (0: none), and when it last sent a packet. */
  keepalive = 0;
  lastSeen = 0;
  will: Will | undefined;
  /** The client said DISCONNECT (MQTT 5: without asking for its will). */
  graceful = false;
  readonly subs = new Map<string, Subscription>();
  inflight: Map<number, Pending> | undefined;
  queue: Pending[] | undefined;
  qos2: Set<number> | undefined;
  #lastId = 0;

  constructor(readonly clientId: string) {}

  get online(): boolean {
    return this.conn !== undefined;
  }

  get inflightCount(): number {
    return this.inflight?.size ?? 0;
  }

  /** A packet id not in flight, for a QoS 1 copy now sent. */
  track(copy: Pending): number {
    const inflight = (this.inflight ??= new Map());
    const id = (this.#lastId = freeId(this.#lastId, inflight));
    inflight.set(id, copy);
    return id;
  }

  /** A PUBACK came: the copy with that id is delivered. */
  acked(id: number): boolean {
    return this.inflight?.delete(id) ?? false;
  }

  /** Queues a copy; false when the queue holds max already (the copy is dropped). */
  enqueue(copy: Pending, max: number): boolean {
    const queue = (this.queue ??= []);
    if (queue.length >= max) return false;
    queue.push(copy);
    return true;
  }

  /** A QoS 2 PUBLISH: true the first time its id comes (until its PUBREL). */
  firstQos2(id: number): boolean {
    const seen = (this.qos2 ??= new Set());
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  }

  /** What a clean start or an expiry discards. */
  reset(): void {
    this.subs.clear();
    this.inflight = undefined;
    this.queue = undefined;
    this.qos2 = undefined;
  }
}
