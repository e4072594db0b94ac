// SPDX-License-Identifier: MIT
// AsyncManager.mqtt: an MQTT client that stays connected. It rides on
// mqttConnect (one C path for both) and adds what mongoose leaves to the
// application: keepalive pings and a silent broker's detection, reconnecting with
// backoff, subscribing again, re-sending what was not acknowledged (DUP, same
// packet id; PUBREL for a QoS 2 message past PUBREC), and delivering an incoming
// QoS 2 message once (mongoose delivers every PUBLISH, a re-sent one too).
import * as native from "mongoose/native-async";
import {
  MG_EV_ERROR, MG_EV_MQTT_CMD, MG_EV_MQTT_MSG, MQTT_CMD_CONNACK, MQTT_CMD_PUBACK, MQTT_CMD_PUBCOMP, MQTT_CMD_PUBREC,
  MQTT_CMD_PUBREL, MQTT_CMD_SUBACK, MQTT_CMD_UNSUBACK,
} from "mongoose/constants";
import { MqttMessage, type MqttProperty } from "mongoose/messages";
import type { AsyncConnection } from "mongoose/async-connection";
import { _provide, type AsyncManager, type AsyncTimer } from "mongoose/async-manager";
import type { EventData } from "mongoose/connection";
import { plainProperties, type MqttWill } from "mongoose/mqtt";
import { tlsFor, type TlsOptions } from "mongoose/tls";
import type { Bytes } from "mongoose/bytes";
import { topicFilterFault, topicMatches, topicNameFault } from "mongoose/mqtt-topic";
import { Outbox, type Outgoing } from "mongoose/mqtt-outbox";
import { packet, reasonCode, subscribe } from "mongoose/mqtt-packets";
import { MqttSubscription } from "mongoose/mqtt-subscription";
import { AbortController, withDeadline } from "mongoose/abort";
import { deferred, ignore, type Deferred } from "mongoose/deferred";
import { hex, millis, randomBytes } from "mongoose/util";

export interface MqttClientOptions {
  /** Default: "xsmg-" and 12 random hex digits, kept for the client's life (its reconnects resume the session). */
  clientId?: string;
  username?: string;
  password?: string;
  /**
   * Seconds, default 60: the client pings when it has heard nothing for half of
   * it, and drops a broker silent for 1.25 to 1.5 of it. 0: neither.
   */
  keepalive?: number;
  /** Default true: the broker starts a new session at every connect. Exactly-once across a drop needs false. */
  clean?: boolean;
  /** 4 (MQTT 3.1.1, the default) or 5. */
  version?: 4 | 5;
  will?: MqttWill;
  /** Delays between attempts: doubling from minDelay (default 1000 ms) up to maxDelay (30000 ms). false: never reconnect. */
  reconnect?: { minDelay?: number; maxDelay?: number } | false;
  /** For mqtts://: as fetch's and connect's (ca, or skipVerification: true). */
  tls?: TlsOptions;
  /** Messages kept until their QoS flow completes, offline and in flight (default 1000); more are refused. */
  maxPending?: number;
  /** Milliseconds each attempt waits for the broker's CONNACK (default 30000). */
  connectTimeout?: number;
}

export interface MqttPublishOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
  /** MQTT 5 only. */
  properties?: MqttProperty[];
}

export interface MqttEndOptions {
  /** Do not wait for the messages in flight (they are rejected). */
  force?: boolean;
  /** Milliseconds to wait for them otherwise (default 10000). */
  timeout?: number;
}

/** The events of MqttClient.on. */
export interface MqttClientEvents {
  /** Connected (CONNACK accepted); sessionPresent: the broker resumed the session. */
  connect: (info: { sessionPresent: boolean }) => void;
  /** The connection was lost (why); messages wait for the next one. */
  offline: (reason: Error) => void;
  /** A new attempt starts, attempt counting from 1 since the last connection. */
  reconnect: (attempt: number) => void;
  /** An attempt failed: refused, unreachable, timed out. The client tries again. */
  error: (error: Error) => void;
}

type Listener = (...args: never[]) => void;

export class MqttClient {
  readonly #am: AsyncManager;
  readonly #options: MqttClientOptions;
  readonly clientId: string;
  readonly #keepalive: number;
  readonly #outbox: Outbox;
  readonly #subs = new Set<MqttSubscription>();
  /** SUBSCRIBE packet ids (the client's own, as PUBLISH's) awaiting their SUBACK, with their filter. */
  readonly #subIds = new Map<number, string>();
  /** UNSUBSCRIBE packet ids awaiting their UNSUBACK: unsubscribe() resolves then. */
  readonly #unsubAcks = new Map<number, Deferred<void>>();
  /** Incoming QoS 2 packet ids delivered, until their PUBREL: a re-sent PUBLISH is not delivered again. */
  readonly #received = new Set<number>();
  /**
   * The last COMPLETED_KEPT incoming QoS 2 ids whose PUBREL came, oldest first. A
   * broker re-sends such a message after a reconnect only against MQTT (it owes
   * PUBREL, and PUBREL released the id), but mosquitto 2.0.11, restarted from its
   * saved sessions, did: as a DUP PUBLISH, which is then not delivered again. A
   * new message with a released id comes first without DUP.
   */
  readonly #completed = new Set<number>();
  readonly #listeners = new Map<string, Listener[]>();
  readonly #connected = deferred<void>();
  readonly #running: Promise<void>;
  /** The connection, while the broker has accepted it. */
  #conn: AsyncConnection | undefined;
  #flushing = false;
  #ending = false;
  #ended: Promise<void> | undefined;
  #attempt: AbortController | undefined;
  #timer: AsyncTimer | undefined;
  #lastHeard = 0;
  #lastPing = 0;
  /** Why the connection went: set by the keepalive check or an ERROR event. */
  #dropReason: Error | undefined;

  /** @internal AsyncManager.mqtt makes it. */
  constructor(am: AsyncManager, readonly url: string, options: MqttClientOptions) {
    const keepalive = options.keepalive ?? 60;
    if (!(keepalive >= 0 && keepalive <= 65535) || keepalive !== Math.floor(keepalive))
      throw new RangeError(`MQTT ${url}: keepalive must be whole seconds from 0 to 65535`);
    const maxPending = options.maxPending ?? 1000;
    // Each QoS 1 or 2 message waiting holds a packet id: there are 65,535.
    if (!(maxPending >= 1 && maxPending <= 65535)) throw new RangeError(`MQTT ${url}: maxPending must be from 1 to 65,535`);
    tlsFor(`MQTT ${url}`, url, options.tls, true);  // throws now what every attempt would fail on
    this.#am = am;
    this.#options = options;
    this.clientId = options.clientId ?? `xsmg-${hex(randomBytes(6))}`;
    this.#keepalive = keepalive;
    this.#outbox = new Outbox(maxPending, (id) => this.#subIds.has(id) || this.#unsubAcks.has(id));
    this.#connected.promise.catch(ignore);  // awaiting it is optional
    this.#running = this.#run();
  }

  /** Resolves once the broker first accepted the client; rejects when it ends before (or reconnect is false and the attempt failed). */
  get connected(): Promise<void> {
    return this.#connected.promise;
  }
  get isConnected(): boolean {
    return this.#conn !== undefined;
  }
  /** Messages published and not yet through their QoS flow. */
  get pending(): number {
    return this.#outbox.size;
  }

  on<K extends keyof MqttClientEvents>(event: K, listener: MqttClientEvents[K]): this {
    const list = this.#listeners.get(event) ?? [];
    list.push(listener);
    this.#listeners.set(event, list);
    return this;
  }
  off<K extends keyof MqttClientEvents>(event: K, listener: MqttClientEvents[K]): this {
    const list = this.#listeners.get(event) ?? [];
    const at = list.indexOf(listener);
    if (at >= 0) list.splice(at, 1);
    return this;
  }

  /**
   * Publishes; resolves when its QoS flow completes: queued for the poll task
   * to write (QoS 0), PUBACK (1), PUBCOMP (2). Offline, the message waits for
   * the next connection; one in flight when the connection drops is sent again
   * (DUP). Rejects when maxPending messages already wait, when the broker refuses
   * it (MQTT 5 reason code), or when end() comes first.
   */
  publish(topic: string, payload: Bytes, options: MqttPublishOptions = {}): Promise<void> {
    const qos = options.qos ?? 0;
    const fault = topicNameFault(topic) ??
      (qos === 0 || qos === 1 || qos === 2 ? undefined : "qos is 0, 1 or 2") ??
      (options.properties?.length && this.#options.version !== 5 ? "properties need MQTT 5 (version: 5)" : undefined) ??
      (this.#ending ? "the client has ended" : undefined);
    if (fault) return Promise.reject(new TypeError(`MQTT publish to ${topic}: ${fault}`));
    let entry: Outgoing;
    try {
      entry = this.#outbox.add(topic, payload, qos, options.retain ?? false, plainProperties(options.properties));
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#conn && !this.#flushing) this.#send(entry, this.#conn);
    return entry.done.promise;
  }

  /**
   * Subscribes to filter (wildcards + and #); the messages whose topic it matches
   * come through the returned iterable. Subscribed again after every reconnect.
   */
  subscribe(filter: string, options: { qos?: 0 | 1 | 2 } = {}): MqttSubscription {
    const qos = options.qos ?? 0;
    const fault = topicFilterFault(filter) ?? (qos === 0 || qos === 1 || qos === 2 ? undefined : "qos is 0, 1 or 2") ??
      (this.#ending ? "the client has ended" : undefined);
    if (fault) throw new TypeError(`MQTT subscribe ${filter}: ${fault}`);
    const sub = new MqttSubscription(filter, qos, (left) => this.#left(left));
    this.#subs.add(sub);
    if (this.#conn) this.#subscribe(this.#conn, filter, qos);
    return sub;
  }

  /**
   * Ends every subscription to filter and sends UNSUBSCRIBE; resolves at the
   * broker's UNSUBACK (at once offline; at the drop when the connection drops
   * before it), rejects when UNSUBSCRIBE could not be written.
   */
  async unsubscribe(filter: string): Promise<void> {
    for (const sub of [...this.#subs]) {
      if (sub.filter !== filter) continue;
      this.#subs.delete(sub);
      sub._end();
    }
    if (this.#conn) await this.#unsubscribe(this.#conn, filter);
  }

  /**
   * Stops: waits (unless force) up to timeout for the messages in flight while
   * connected, rejects those still waiting, sends DISCONNECT (the broker drops
   * the will) and closes; the subscriptions end. Safe to call more than once.
   */
  end(options: MqttEndOptions = {}): Promise<void> {
    return (this.#ended ??= this.#end(options));
  }

  async #end(options: MqttEndOptions): Promise<void> {
    this.#ending = true;
    this.#attempt?.abort(new Error(`MQTT ${this.url}: the client ended`));
    if (!options.force && this.#conn && this.#outbox.size) {
      const drained = new Promise<void>((resolve) => (this.#outbox.onEmpty = resolve));
      // The connection may drop meanwhile: then #running ends, and nothing more will drain.
      await withDeadline(Promise.race([drained, this.#running]), options.timeout ?? 10000, undefined, "end", true);
    }
    this.#outbox.failAll(new Error(`MQTT ${this.url}: the client ended before the message was delivered`));
    const conn = this.#conn;
    if (conn) {
      await conn.mqttDisconnect().catch(ignore);
      await conn.close();
    }
    await this.#running;
  }

  async #run(): Promise<void> {
    const reconnect = this.#options.reconnect ?? {};
    let failures = 0;
    // Not after the manager's close(): its calls would fail at once, and the loop spin.
    for (let attempt = 0; !this.#ending && this.#am.running; attempt++) {
      const controller = (this.#attempt = new AbortController());
      if (attempt > 0) {
        if (reconnect === false) break;
        const delay = Math.min(reconnect.maxDelay ?? 30000, (reconnect.minDelay ?? 1000) * 2 ** Math.min(failures, 16));
        await this.#am.sleep(delay, controller.signal).catch(ignore);
        if (this.#ending) break;
        this.#emit("reconnect", attempt);
      }
      let conn: AsyncConnection;
      try {
        conn = await this.#am.mqttConnect(this.url, {
          clientId: this.clientId, username: this.#options.username, password: this.#options.password,
          cleanSession: this.#options.clean ?? true, keepalive: this.#keepalive, version: this.#options.version,
          will: this.#options.will, tls: this.#options.tls, timeout: this.#options.connectTimeout,
          signal: controller.signal, handler: this.#handler,
        });
      } catch (error) {
        if (this.#ending) break;
        failures++;
        const why = error instanceof Error ? error : new Error(String(error));
        this.#emit("error", why);
        if (reconnect === false) this.#connected.reject(why);
        continue;
      }
      if (this.#ending) {  // then its CONNACK did not make it the connection (#online)
        await conn.close();
        break;
      }
      failures = 0;
      attempt = 0;
      await conn.closed;
      this.#offline();
    }
    this.#stopped();
  }

  // At the CONNACK's MQTT_CMD, in the handler: mqttConnect's promise settles a
  // turn earlier (each event is a turn), without the session present flag.
  #online(conn: AsyncConnection, sessionPresent: boolean): void {
    this.#conn = conn;
    this.#dropReason = undefined;
    this.#lastHeard = this.#lastPing = millis();
    // A new session: its packet ids start afresh.
    if (!sessionPresent) {
      this.#received.clear();
      this.#completed.clear();
    }
    this.#subIds.clear();
    const filters = new Map<string, 0 | 1 | 2>();
    for (const sub of this.#subs) filters.set(sub.filter, Math.max(filters.get(sub.filter) ?? 0, sub.qos) as 0 | 1 | 2);
    for (const [filter, qos] of filters) this.#subscribe(conn, filter, qos);
    if (this.#keepalive) this.#timer = this.#am.timerAdd(this.#keepalive * 250, () => this.#checkAlive(conn), { repeat: true });
    // The waiting messages first: one a "connect" listener publishes goes after them.
    this.#flush(conn).catch(ignore);
    this.#connected.resolve();
    this.#emit("connect", { sessionPresent });
  }

  #offline(): void {
    this.#conn = undefined;
    for (const acked of this.#unsubAcks.values()) acked.resolve();
    this.#unsubAcks.clear();
    this.#timer?.cancel();
    this.#emit("offline", this.#dropReason ?? new Error(`MQTT ${this.url}: the connection closed`));
  }

  #stopped(): void {
    this.#ending = true;
    for (const sub of this.#subs) sub._end();
    this.#subs.clear();
    this.#outbox.failAll(new Error(`MQTT ${this.url}: the client ended before the message was delivered`));
    this.#connected.reject(new Error(`MQTT ${this.url}: the client ended before it connected`));
  }

  // The broker must hear from us within the keepalive; we give it as long plus
  // a quarter (the timer's period) to answer a ping.
  #checkAlive(conn: AsyncConnection): void {
    if (conn !== this.#conn) return;
    const now = millis();
    const keepalive = this.#keepalive * 1000;
    const silent = now - this.#lastHeard;
    if (silent >= keepalive * 1.25) {
      this.#dropReason = new Error(`MQTT ${this.url}: the broker was silent for ${silent} ms (keepalive ${this.#keepalive} s)`);
      conn.close().catch(ignore);
    } else if (silent >= keepalive / 2 && now - this.#lastPing >= keepalive / 2) {
      this.#lastPing = now;
      conn.mqttPing().catch(ignore);
    }
  }

  // Hands every message not yet on conn to it, in publish order, FLUSH_SLICE at a
  // time: a PINGREQ after each slice resolves once the poll task has run them, so
  // that a full outbox never overflows the command queue (256 on esp32).
  async #flush(conn: AsyncConnection): Promise<void> {
    this.#flushing = true;
    try {
      let slice = 0;
      for (const entry of this.#outbox.entries()) {
        if (entry.conn === conn.id) continue;
        if (this.#conn !== conn) return;
        this.#send(entry, conn);
        if (++slice === FLUSH_SLICE) {
          slice = 0;
          await conn.mqttPing();
        }
      }
    } catch {
      // The connection went: the next one takes what is left.
    } finally {
      this.#flushing = false;
    }
  }

  // Queues the PUBLISH (or PUBLISH again, DUP, or PUBREL) for the poll task, with no
  // completion to wait for: the packet id is ours, and the acknowledgement says
  // the rest. A connection that closes before writing it hands it to the next.
  #send(entry: Outgoing, conn: AsyncConnection): void {
    const again = entry.conn !== 0;
    entry.conn = conn.id;
    try {
      // A PUBREL lost with its connection is sent again on the next.
      if (entry.released) conn.send(packet(MQTT_CMD_PUBREL << 4 | 2, [entry.id >> 8, entry.id & 255])).catch(ignore);
      else native.mqttPub(this.#am._native, conn.id, entry.topic, entry.payload, entry.qos, entry.retain, entry.properties, 0,
        entry.id, again);
    } catch (error) {  // the command queue is full, or the manager closed
      this.#outbox.finish(entry, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (entry.qos === 0) this.#outbox.finish(entry);  // at most once: it is on its way
  }

  // SUBSCRIBE and UNSUBSCRIBE are built here, as PUBREL is (#send), so that
  // their packet ids are ours: MQTT wants none of them in use by a PUBLISH in
  // flight, whose ids are ours too (mongoose's counter knows nothing of those).
  #subscribe(conn: AsyncConnection, filter: string, qos: 0 | 1 | 2): void {
    const id = this.#outbox.nextId();
    this.#subIds.set(id, filter);
    conn.send(subscribe(this.#options.version === 5, id, filter, qos)).catch(ignore);  // gone: the next connection subscribes again
  }

  // Resolves at the UNSUBACK (or the drop: #offline); rejects when it could not be written.
  #unsubscribe(conn: AsyncConnection, filter: string): Promise<void> {
    const id = this.#outbox.nextId();
    const acked = deferred<void>();
    this.#unsubAcks.set(id, acked);
    conn.send(subscribe(this.#options.version === 5, id, filter)).catch((error: unknown) => {
      this.#unsubAcks.delete(id);
      acked.reject(error);
    });
    return acked.promise;
  }

  // A subscription's reader left (or the broker refused it): unsubscribe when no other has its filter.
  #left(sub: MqttSubscription): void {
    this.#subs.delete(sub);
    for (const other of this.#subs) if (other.filter === sub.filter) return;
    if (this.#conn) this.#unsubscribe(this.#conn, sub.filter).catch(ignore);
  }

  // Every event of every connection attempt, from its first on: a CONNACK and
  // the first messages may come before mqttConnect's promise settles.
  readonly #handler = (conn: AsyncConnection, ev: number, data: EventData): void => {
    if (ev === MG_EV_ERROR && conn === this.#conn) this.#dropReason ??= new Error(`MQTT ${this.url}: ${String(data)}`);
    if (!(data instanceof MqttMessage)) return;
    this.#lastHeard = millis();
    if (ev === MG_EV_MQTT_MSG) {
      this.#deliver(data);
      return;
    }
    if (ev !== MG_EV_MQTT_CMD) return;
    const cmd = data.cmd;
    if (cmd === MQTT_CMD_PUBACK || cmd === MQTT_CMD_PUBREC || cmd === MQTT_CMD_PUBCOMP)
      this.#outbox.acknowledged(cmd, data.id, reasonCode(data.packet, true));
    else if (cmd === MQTT_CMD_PUBREL) this.#released(data.id);
    else if (cmd === MQTT_CMD_SUBACK) {
      const bytes = data.packet;
      const filter = this.#subIds.get(data.id);
      this.#subIds.delete(data.id);
      // One filter per SUBSCRIBE: its code is the last byte.
      for (const sub of [...this.#subs]) if (sub.filter === filter) sub._suback(bytes[bytes.length - 1]);
    }
    else if (cmd === MQTT_CMD_UNSUBACK) {
      this.#unsubAcks.get(data.id)?.resolve();
      this.#unsubAcks.delete(data.id);
    }
    else if (cmd === MQTT_CMD_CONNACK && data.ack === 0 && !this.#ending) this.#online(conn, (data.packet[2] & 1) !== 0);
  };

  #deliver(message: MqttMessage): void {
    if (message.qos === 2) {
      const id = message.id;
      if (this.#received.has(id)) return;  // mongoose sent PUBREC again; we delivered it already
      if (this.#completed.delete(id) && (message.packet[0] & DUP) !== 0) return;
      this.#received.add(id);
    }
    const topic = message.topic;
    for (const sub of this.#subs) if (topicMatches(sub.filter, topic)) sub._push(message);
  }

  #released(id: number): void {
    this.#received.delete(id);
    this.#completed.delete(id);
    this.#completed.add(id);
    if (this.#completed.size > COMPLETED_KEPT) this.#completed.delete(this.#completed.values().next().value!);
  }

  #emit<K extends keyof MqttClientEvents>(event: K, ...args: Parameters<MqttClientEvents[K]>): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        (listener as unknown as (...a: Parameters<MqttClientEvents[K]>) => void)(...args);
      } catch (error) {
        console.error(`MQTT ${this.url}: a "${event}" listener threw:`, error);
      }
    }
  }
}

/** Messages handed to a new connection between two waits for the poll task (see #flush). */
const FLUSH_SLICE = 64;
/** A PUBLISH's fixed header flag: sent again. */
const DUP = 0x08;
/** How many released QoS 2 ids #completed keeps: more than a broker keeps in flight by default (mosquitto: 20). */
const COMPLETED_KEPT = 256;

// AsyncManager.mqtt makes its clients here once this module is imported.
_provide("mongoose/mqtt-client", (am, url, options) => new MqttClient(am, url, options));
