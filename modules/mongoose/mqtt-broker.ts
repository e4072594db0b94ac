// SPDX-License-Identifier: MIT
// An MQTT broker in the firmware (AsyncManager.mqttBroker, once a module of the
// firmware imports this one): mongoose parses the packets of an MQTT listener's
// clients on the poll task and acknowledges their QoS 1 and 2 PUBLISHes itself;
// this file answers the rest, keeps sessions and retained messages, and routes
// each message to its subscribers with one fan-out command (c/xm_am_broker.c)
// however many they are.
import * as native from "mongoose/native-async";
import {
  MG_EV_ACCEPT, MG_EV_CLOSE, MG_EV_MQTT_CMD, MG_EV_MQTT_MSG, MQTT_CMD_CONNECT, MQTT_CMD_DISCONNECT, MQTT_CMD_PINGREQ,
  MQTT_CMD_PUBACK, MQTT_CMD_PUBLISH, MQTT_CMD_PUBREL, MQTT_CMD_SUBSCRIBE, MQTT_CMD_UNSUBSCRIBE,
  MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER, MQTT_PROP_AUTHENTICATION_METHOD, MQTT_PROP_MAXIMUM_QOS, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
  MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE, MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE,
} from "mongoose/constants";
import { XM_AM_FANOUT_DUP, XM_AM_FANOUT_ID_SHIFT, XM_AM_FANOUT_RETAIN } from "mongoose/wire";
import { MqttMessage } from "mongoose/messages";
import type { AsyncConnection } from "mongoose/async-connection";
import { _provide, type AsyncManager, type AsyncTimer } from "mongoose/async-manager";
import type { Address, EventData } from "mongoose/connection";
import type { TlsOptions } from "mongoose/tls";
import { utf8, type Bytes } from "mongoose/bytes";
import { topicFilterFault, topicMatches, topicNameFault } from "mongoose/mqtt-topic";
import {
  Malformed, connack, parseConnect, reasonCode, parseSubscribe,
  parseUnsubscribe, suback, unsuback, XsString, type Connect, type OutProperty, type Subscription,
} from "mongoose/mqtt-packets";
import { Session, type Pending, type Routed } from "mongoose/mqtt-session";
// ignore: a send to a client that went meanwhile (its CLOSE event does the rest)
import { ignore } from "mongoose/deferred";

/** What authenticate is told about a client that sent CONNECT. */
export interface MqttClientInfo {
  clientId: string;
  username?: string;
  password?: Uint8Array;
  /** 3 (MQTT 3.1), 4 (3.1.1) or 5. */
  version: number;
  remoteAddr?: Address;
}

export interface MqttBrokerOptions {
  /** Accepts (true) or refuses (false: "bad user name or password") a client; may be async. */
  authenticate?: (client: MqttClientInfo) => boolean | Promise<boolean>;
  /** Clients connected at once (default 64); one more is refused "server unavailable" (MQTT 5: "server busy"). */
  maxClients?: number;
  /** QoS 1 messages sent to a client and not yet acknowledged (default 16); more wait in its queue. */
  maxInflight?: number;
  /** Messages a session queues (default 100), while its window is full or its client is away; more are dropped. */
  maxQueued?: number;
  /** Persistent sessions kept while their client is away (default 64); beyond, the one away longest goes. */
  maxSessions?: number;
  /** Retained topics (default 256); a new one beyond is not kept. */
  maxRetained?: number;
  /** A client that sends no CONNECT within this many ms is closed (default 10000). */
  connectTimeout?: number;
  /** For an mqtts:// URL: the broker's cert and key. */
  tls?: TlsOptions;
}

/** A message as the firmware's own subscriptions get it. Its payload is shared: read it, do not change it. */
export class BrokerMessage {
  /** @internal */
  constructor(readonly topic: string, readonly payload: Uint8Array, readonly qos: number, readonly retain: boolean,
    /** The client that published it; undefined when the firmware did. */
    readonly clientId: string | undefined) {}
  get text(): string {
    return XsString.fromArrayBuffer(this.payload.slice().buffer);
  }
}

interface Local {
  filter: string;
  callback: (message: BrokerMessage) => void;
}

/** A firmware subscription, or a session's matching a topic. */
type Target = Local | { session: Session; sub: Subscription };

/** A packet with what the broker reads of it, taken while its handler runs. */
interface Packet {
  cmd: number;
  id: number;
  qos: number;
  retain: boolean;
  topic: string;
  payload?: Uint8Array;
  /** The whole packet, for those mongoose does not parse. */
  raw?: Uint8Array;
}

// The options that are limits, and their defaults.
const LIMITS = { maxClients: 64, maxInflight: 16, maxQueued: 100, maxSessions: 64, maxRetained: 256, connectTimeout: 10000 };
const ROUTES_CACHED = 256;
const SWEEP_MS = 500;
// MQTT 3.1.1 CONNACK return codes, and MQTT 5's reason codes.
const V3_BAD_VERSION = 1, V3_BAD_ID = 2, V3_UNAVAILABLE = 3, V3_BAD_LOGIN = 4;
const V5_BAD_METHOD = 0x8c, V5_BUSY = 0x89, V5_BAD_LOGIN = 0x86, V5_TOPIC_INVALID = 0x90;
const V5_FILTER_INVALID = 0x8f, V5_SHARED_UNSUPPORTED = 0x9e, V3_SUB_FAILURE = 0x80, V5_NO_SUBSCRIPTION = 0x11;
const V5_DISCONNECT_WITH_WILL = 4;

/** A fan-out target's word for c/xm_am_broker.c: the copy's QoS, RETAIN and packet id. */
function target(qos: number, retain: boolean, id: number): number {
  return qos | (retain ? XM_AM_FANOUT_RETAIN : 0) | id << XM_AM_FANOUT_ID_SHIFT;
}

export class MqttBroker {
  /** The listening connection. */
  listener!: AsyncConnection;
  readonly #am: AsyncManager;
  readonly #report: (error: unknown) => void;
  readonly #limits = { ...LIMITS };
  readonly #authenticate: MqttBrokerOptions["authenticate"];
  readonly #sessions = new Map<string, Session>();
  readonly #byConn = new Map<number, Session>();
  /** Accepted connections yet to CONNECT, and when. */
  readonly #fresh = new Map<number, number>();
  /** Connections whose CONNECT waits for authenticate: their next packets wait too. */
  readonly #waiting = new Map<number, Packet[]>();
  readonly #retained = new Map<string, Routed>();
  readonly #locals = new Set<Local>();
  readonly #routes = new Map<string, Target[]>();
  #timer: AsyncTimer | undefined;
  #closed = false;
  #assigned = 0;
  #dropped = 0;

  /** @internal AsyncManager.mqttBroker makes it (see the end of this file). */
  constructor(am: AsyncManager, options: MqttBrokerOptions, report: (error: unknown) => void) {
    this.#am = am;
    this.#report = report;
    for (const name of Object.keys(LIMITS) as (keyof typeof LIMITS)[]) {
      const value = options[name];
      if (value === undefined) continue;
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`mqttBroker: ${name} must be a positive integer, got ${value}`);
      // Each QoS 1 message in flight to a client holds one of its 65,535 packet ids.
      if (name === "maxInflight" && value > 65535) throw new RangeError(`mqttBroker: maxInflight must be at most 65,535, got ${value}`);
      this.#limits[name] = value;
    }
    this.#authenticate = options.authenticate;
  }

  /** @internal */
  async _listen(url: string, tls: TlsOptions | undefined): Promise<this> {
    this.listener = await this.#am.mqttListen(url, this.#handle, { tls });
    this.#timer = this.#am.timerAdd(SWEEP_MS, () => this.#sweep(), { repeat: true });
    return this;
  }

  /** Clients connected now. */
  get clients(): number { return this.#byConn.size; }
  /** Sessions kept, connected or not. */
  get sessions(): number { return this.#sessions.size; }
  /** Retained topics. */
  get retained(): number { return this.#retained.size; }
  /** Copies dropped so far: queues full, or QoS 0 for a client away. */
  get dropped(): number { return this.#dropped; }

  /** Publishes from the firmware itself, to clients and the firmware's own subscriptions. */
  publish(topic: string, payload: Bytes, options: { qos?: 0 | 1; retain?: boolean } = {}): void {
    const fault = topicNameFault(topic);
    if (fault) throw new TypeError(`publish to "${topic}": ${fault}`);
    const bytes = typeof payload === "string" ? utf8(payload) : new Uint8Array(payload.slice(0));
    this.#publish({ topic, payload: bytes, qos: options.qos ?? 0, retain: options.retain ?? false });
  }

  /**
   * The firmware's own subscription: callback gets each matching message (first
   * the retained ones), as it is routed. Returns the function that ends it.
   */
  subscribe(filter: string, callback: (message: BrokerMessage) => void): () => void {
    const fault = topicFilterFault(filter);
    if (fault) throw new TypeError(`subscribe to "${filter}": ${fault}`);
    const local: Local = { filter, callback };
    this.#locals.add(local);
    this.#routes.clear();
    for (const msg of this.#retained.values())
      if (topicMatches(filter, msg.topic)) this.#local(local, msg, true);
    return () => {
      this.#locals.delete(local);
      this.#routes.clear();
    };
  }

  /** Closes the listener and every client (no wills); sessions and retained messages are forgotten. */
  async close(): Promise<void> {
    this.#timer?.cancel();
    this.#closed = true;
    const ids = new Set([...this.#byConn.keys(), ...this.#fresh.keys(), ...this.#waiting.keys()]);
    const conns = [this.listener, ...this.#am.connections.filter((conn) => ids.has(conn.id))];
    this.#sessions.clear();
    this.#byConn.clear();
    this.#fresh.clear();
    this.#waiting.clear();
    this.#routes.clear();
    this.#retained.clear();
    await Promise.all(conns.map((conn) => conn.close()));
  }

  readonly #handle = (conn: AsyncConnection, ev: number, data: EventData): void => {
    if (ev === MG_EV_MQTT_MSG && data instanceof MqttMessage) {
      this.#packet(conn, { cmd: MQTT_CMD_PUBLISH, id: data.id, qos: data.qos, retain: data.retain, topic: data.topic,
        payload: data.data });
    } else if (ev === MG_EV_MQTT_CMD && data instanceof MqttMessage) {
      const cmd = data.cmd;
      if (cmd === MQTT_CMD_PUBLISH) return;  // as MQTT_MSG, next
      const whole = cmd === MQTT_CMD_CONNECT || cmd === MQTT_CMD_SUBSCRIBE || cmd === MQTT_CMD_UNSUBSCRIBE ||
        cmd === MQTT_CMD_DISCONNECT;
      this.#packet(conn, { cmd, id: data.id, qos: 0, retain: false, topic: "", raw: whole ? data.packet : undefined });
    } else if (ev === MG_EV_ACCEPT) {
      if (this.#closed) void conn.close();  // accepted by the poll task while close() ran
      else this.#fresh.set(conn.id, Date.now());
    } else if (ev === MG_EV_CLOSE) {
      this.#gone(conn);
    }
  };

  #packet(conn: AsyncConnection, p: Packet): void {
    const waiting = this.#waiting.get(conn.id);
    if (waiting) {
      waiting.push(p);
      return;
    }
    const s = this.#byConn.get(conn.id);
    try {
      if (!s) {
        if (p.cmd !== MQTT_CMD_CONNECT) throw new Malformed("the first packet is not CONNECT");
        this.#fresh.delete(conn.id);
        this.#connect(conn, parseConnect(p.raw!));
        return;
      }
      s.lastSeen = Date.now();
      switch (p.cmd) {
        case MQTT_CMD_PUBLISH: this.#fromClient(s, p); break;
        case MQTT_CMD_PUBACK: if (s.acked(p.id)) this.#pump(s); break;
        case MQTT_CMD_PUBREL: s.qos2?.delete(p.id); break;
        case MQTT_CMD_SUBSCRIBE: this.#subscribe(s, p.raw!); break;
        case MQTT_CMD_UNSUBSCRIBE: this.#unsubscribe(s, p.raw!); break;
        case MQTT_CMD_PINGREQ: conn.mqttPong().catch(ignore); break;
        case MQTT_CMD_DISCONNECT:
          s.graceful = !(s.v5 && reasonCode(p.raw!, false) === V5_DISCONNECT_WITH_WILL);
          void conn.close();
          break;
        default: throw new Malformed(`packet type ${p.cmd} is not the client's to send`);
      }
    } catch (error) {
      if (!(error instanceof Malformed)) this.#report(error);
      void conn.close();
    }
  }

  #connect(conn: AsyncConnection, c: Connect): void {
    if (c.level !== 3 && c.level !== 4 && c.level !== 5) {
      this.#refuse(conn, false, V3_BAD_VERSION);
      return;
    }
    const v5 = c.level === 5;
    if (c.clientId === "" && !c.clean && !v5) {
      this.#refuse(conn, false, V3_BAD_ID);
      return;
    }
    if (c.will && topicNameFault(c.will.topic)) {
      if (v5) this.#refuse(conn, true, V5_TOPIC_INVALID);
      else void conn.close();
      return;
    }
    if (v5 && c.properties.has(MQTT_PROP_AUTHENTICATION_METHOD)) {
      this.#refuse(conn, true, V5_BAD_METHOD);
      return;
    }
    const assigned = c.clientId === "" ? `auto-${++this.#assigned}-${Date.now().toString(36)}` : undefined;
    const clientId = assigned ?? c.clientId;
    if (!this.#room(conn, clientId, v5)) return;
    const verdict = this.#authenticate?.({ clientId, username: c.username, password: c.password, version: c.level,
      remoteAddr: conn.remoteAddr }) ?? true;
    if (typeof verdict === "boolean") {
      this.#admit(conn, c, clientId, assigned, verdict);
      return;
    }
    this.#waiting.set(conn.id, []);
    verdict.then((ok) => ok === true, (error) => {
      this.#report(error);
      return false;
    }).then((ok) => {
      const waiting = this.#waiting.get(conn.id) ?? [];
      this.#waiting.delete(conn.id);
      if (conn.isClosed || (ok && !this.#room(conn, clientId, v5)) || !this.#admit(conn, c, clientId, assigned, ok)) return;
      for (const p of waiting) this.#packet(conn, p);
    });
  }

  // Whether one more client may connect (one taking over its session's
  // connection is not one more); refuses it when not.
  #room(conn: AsyncConnection, clientId: string, v5: boolean): boolean {
    if (this.#byConn.size < this.#limits.maxClients || this.#sessions.get(clientId)?.online) return true;
    return this.#refuse(conn, v5, v5 ? V5_BUSY : V3_UNAVAILABLE);
  }

  // Sends the refusing CONNACK, then closes; false: the client is not admitted.
  #refuse(conn: AsyncConnection, v5: boolean, code: number): false {
    conn.send(connack(v5, false, code)).catch(ignore);
    conn.drain().catch(ignore);
    return false;
  }

  #admit(conn: AsyncConnection, c: Connect, clientId: string, assigned: string | undefined, ok: boolean): boolean {
    const v5 = c.level === 5;
    if (!ok) return this.#refuse(conn, v5, v5 ? V5_BAD_LOGIN : V3_BAD_LOGIN);
    const before = this.#sessions.get(clientId);
    if (before?.conn) {  // the same client again: it takes the session over from its old connection
      const old = before.conn;
      this.#offline(before);
      void old.close();
    }
    const kept = this.#sessions.get(clientId);
    const present = kept !== undefined && !c.clean;
    if (kept && !present) this.#remove(kept);
    const s = present ? kept : new Session(clientId);
    this.#sessions.set(clientId, s);
    const expiry = c.properties.get(MQTT_PROP_SESSION_EXPIRY_INTERVAL) ?? 0;
    s.conn = conn;
    s.v5 = v5;
    s.persistent = v5 ? expiry > 0 : !c.clean;
    s.expiry = !v5 || expiry === 0xffffffff ? Infinity : expiry * 1000;
    s.keepalive = c.keepalive * 1000;
    s.lastSeen = Date.now();
    s.will = c.will;
    s.graceful = false;
    this.#byConn.set(conn.id, s);
    // MQTT 5: QoS 1 at most, no shared subscriptions nor subscription ids.
    const props: OutProperty[] = [
      [MQTT_PROP_MAXIMUM_QOS, 1], [MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE, 0], [MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, 0],
    ];
    if (assigned) props.push([MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER, assigned]);
    conn.send(connack(v5, present, 0, props)).catch(ignore);
    if (present) {
      for (const [id, copy] of s.inflight ?? [])
        this.#fanout(copy.msg, [conn.id, target(1, copy.retain, id) | XM_AM_FANOUT_DUP]);
      this.#pump(s);
    }
    return true;
  }

  // The client's connection is gone (closed, or taken over): its will goes out
  // unless it said DISCONNECT; a session that is not persistent goes too.
  #offline(s: Session): void {
    if (s.conn) this.#byConn.delete(s.conn.id);
    s.conn = undefined;
    s.offlineSince = Date.now();
    const will = s.will;
    s.will = undefined;
    if (will && !s.graceful) this.#publish(will);
    if (!s.persistent) this.#remove(s);
    else this.#evict();
  }

  #gone(conn: AsyncConnection): void {
    this.#fresh.delete(conn.id);
    this.#waiting.delete(conn.id);
    const s = this.#byConn.get(conn.id);
    if (s?.conn === conn) this.#offline(s);
  }

  #remove(s: Session): void {
    if (this.#sessions.get(s.clientId) === s) this.#sessions.delete(s.clientId);
    if (s.subs.size) this.#routes.clear();
    s.reset();
  }

  // The persistent sessions of clients away, beyond maxSessions: the one away longest goes.
  #evict(): void {
    let away = 0;
    let oldest: Session | undefined;
    for (const s of this.#sessions.values()) {
      if (s.online) continue;
      away++;
      if (!oldest || s.offlineSince < oldest.offlineSince) oldest = s;
    }
    if (oldest && away > this.#limits.maxSessions) this.#remove(oldest);
  }

  #sweep(): void {
    const now = Date.now();
    for (const s of this.#byConn.values())
      if (s.keepalive && now - s.lastSeen > s.keepalive * 1.5) void s.conn?.close();
    for (const s of this.#sessions.values())
      if (!s.online && now - s.offlineSince > s.expiry) this.#remove(s);
    for (const [id, since] of this.#fresh)
      if (now - since > this.#limits.connectTimeout) {
        this.#fresh.delete(id);
        void this.#am.connections.find((conn) => conn.id === id)?.close();
      }
  }

  #fromClient(s: Session, p: Packet): void {
    if (p.qos > 2) throw new Malformed("PUBLISH with QoS 3");
    if (topicNameFault(p.topic)) throw new Malformed(`PUBLISH to an invalid topic "${p.topic}"`);
    if (p.qos === 2 && !s.firstQos2(p.id)) return;  // sent again before its PUBREL: delivered already
    this.#publish({ topic: p.topic, payload: p.payload!, qos: p.qos, retain: p.retain, from: s });
  }

  #publish(msg: Routed): void {
    if (msg.retain) this.#keep(msg);
    const words: number[] = [];
    for (const t of this.#route(msg.topic)) {
      if ("callback" in t) this.#local(t, msg, false);
      else if (!(t.sub.noLocal && msg.from === t.session))
        this.#deliver(t.session, { msg, qos: Math.min(msg.qos, t.sub.qos, 1), retain: t.sub.asPublished && msg.retain }, words);
    }
    if (words.length) this.#fanout(msg, words);
  }

  #local(local: Local, msg: Routed, retained: boolean): void {
    try {
      local.callback(new BrokerMessage(msg.topic, msg.payload, msg.qos, retained, msg.from?.clientId));
    } catch (error) {
      this.#report(error);
    }
  }

  // One copy for s: into words (the fan-out's targets) when it can go now, else
  // into the session's queue (QoS 1 for a persistent session away, or a window full).
  #deliver(s: Session, copy: Pending, words: number[]): void {
    const conn = s.conn;
    if (conn && (copy.qos === 0 || (s.inflightCount < this.#limits.maxInflight && !s.queue?.length))) {
      const id = copy.qos ? s.track(copy) : 0;
      words.push(conn.id, target(copy.qos, copy.retain, id));
    } else if (!(copy.qos && (conn || s.persistent) && s.enqueue(copy, this.#limits.maxQueued))) {
      this.#dropped++;
    }
  }

  #pump(s: Session): void {
    while (s.conn && s.queue?.length && s.inflightCount < this.#limits.maxInflight) {
      const copy = s.queue.shift()!;
      this.#fanout(copy.msg, [s.conn.id, target(copy.qos, copy.retain, s.track(copy))]);
    }
  }

  #fanout(msg: Routed, words: number[]): void {
    if (!this.#am.running) return;  // closing: its connections close with it (a will of one of them)
    native.mqttFanout(this.#am._native, msg.topic, msg.payload, new Uint8Array(new Uint32Array(words).buffer));
  }

  #keep(msg: Routed): void {
    if (msg.payload.length === 0) this.#retained.delete(msg.topic);
    else if (this.#retained.has(msg.topic) || this.#retained.size < this.#limits.maxRetained)
      this.#retained.set(msg.topic, { topic: msg.topic, payload: msg.payload, qos: msg.qos, retain: true });
    else this.#dropped++;
  }

  // Who gets a message to topic: each session once (at the highest QoS of its
  // matching filters), and each firmware subscription. Cached per topic until a
  // subscription changes.
  #route(topic: string): Target[] {
    const cached = this.#routes.get(topic);
    if (cached) return cached;
    const targets: Target[] = [];
    for (const session of this.#sessions.values()) {
      let best: Subscription | undefined;
      for (const sub of session.subs.values())
        if ((!best || sub.qos > best.qos) && topicMatches(sub.filter, topic)) best = sub;
      if (best) targets.push({ session, sub: best });
    }
    for (const local of this.#locals) if (topicMatches(local.filter, topic)) targets.push(local);
    if (this.#routes.size >= ROUTES_CACHED) this.#routes.clear();
    this.#routes.set(topic, targets);
    return targets;
  }

  #subscribe(s: Session, raw: Uint8Array): void {
    const { id, list: subscriptions } = parseSubscribe(raw, s.v5);
    const codes: number[] = [];
    const fresh: Subscription[] = [];
    for (const sub of subscriptions) {
      const shared = sub.filter.startsWith("$share/");
      if (shared || topicFilterFault(sub.filter)) {
        codes.push(!s.v5 ? V3_SUB_FAILURE : shared ? V5_SHARED_UNSUPPORTED : V5_FILTER_INVALID);
        continue;
      }
      const granted = { ...sub, qos: Math.min(sub.qos, 1), asPublished: s.v5 && sub.asPublished };
      const existed = s.subs.has(sub.filter);
      s.subs.set(sub.filter, granted);
      codes.push(granted.qos);
      if (sub.retainHandling === 0 || (sub.retainHandling === 1 && !existed)) fresh.push(granted);
    }
    this.#routes.clear();
    s.conn!.send(suback(s.v5, id, codes)).catch(ignore);
    // The retained messages after the SUBACK (commands run in order), each once.
    for (const msg of this.#retained.values()) {
      let qos = -1;
      for (const sub of fresh) if (topicMatches(sub.filter, msg.topic)) qos = Math.max(qos, Math.min(msg.qos, sub.qos));
      if (qos < 0) continue;
      const words: number[] = [];
      this.#deliver(s, { msg, qos, retain: true }, words);
      if (words.length) this.#fanout(msg, words);
    }
  }

  #unsubscribe(s: Session, raw: Uint8Array): void {
    const { id, list: filters } = parseUnsubscribe(raw, s.v5);
    const codes = filters.map((filter) => (s.subs.delete(filter) ? 0 : V5_NO_SUBSCRIPTION));
    this.#routes.clear();
    s.conn!.send(unsuback(s.v5, id, codes)).catch(ignore);
  }
}

_provide("mongoose/mqtt-broker", (am, url, options, report) => new MqttBroker(am, options, report)._listen(url, options.tls));
