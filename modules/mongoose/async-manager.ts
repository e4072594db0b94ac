// SPDX-License-Identifier: MIT
// AsyncManager: mongoose runs on its own poll task (a FreeRTOS task, a thread in
// the simulator); handlers and promises run here, on the XS task. Unlike the seed,
// where handlers run on the poll thread, a JavaScript handler that blocks stalls
// JavaScript only: the poll task keeps accepting and buffering up to its queues'
// bounds. Every crossing goes through c/xm_am.h's two queues.
import * as native from "mongoose/native-async";
import { XM_AM_EV_RESULT, XM_AM_KIND_HTTP, XM_AM_KIND_MQTT, XM_AM_KIND_RAW, XM_AM_KIND_SNTP, XM_AM_KIND_WS } from "mongoose/wire";
import { MG_EV_ACCEPT, MG_EV_CLOSE, MG_EV_HTTP_MSG, MG_EV_MQTT_MSG, MG_EV_MQTT_OPEN, MG_EV_OPEN, MG_EV_SNTP_TIME } from "mongoose/constants";
import type { EventData } from "mongoose/connection";
import { AsyncConnection, type AsyncHandler, type CatchingHandler } from "mongoose/async-connection";
import { tlsFor, type TlsOptions } from "mongoose/tls";
import { bindNativeOnce, type ListenLimits } from "mongoose/manager";
import { defaultErrorHandler, reportError } from "mongoose/errors";
import { mqttConnectArgs, type AsyncMqttConnectOptions } from "mongoose/mqtt";
import { parsesHttp } from "mongoose/scheme";
import { withDeadline, type AbortSignal } from "mongoose/abort";
import { deferred, ignore, type Deferred } from "mongoose/deferred";
import type { Bytes } from "mongoose/bytes";
import { serveRequests, type ServeHandler } from "mongoose/serve";
import { fetch, type FetchOptions, type Response } from "mongoose/fetch";
import { stopPollTask } from "mongoose/shutdown";
import { sntp, syncClock, type SntpOptions, type SyncClockOptions } from "mongoose/clock";
import type { MqttClient, MqttClientOptions } from "mongoose/mqtt-client";
import type { MqttBroker, MqttBrokerOptions } from "mongoose/mqtt-broker";

const START_REQUEST = 1;
const CLOSE_REQUEST = 2;

export type AsyncErrorHandler = (error: unknown, conn: AsyncConnection | undefined, ev: number) => void;

export interface AsyncManagerOptions {
  /** Longest mg_mgr_poll wait in ms; commands wake the poll task at once regardless. */
  pollInterval?: number;
  errorHandler?: AsyncErrorHandler;
  /** How long close() waits for a stuck poll task before abandoning it. */
  shutdownTimeout?: number;
  /** Capacity of the command queue (XS task to poll task), 1 to 65,535; 0 or by default the host's (1024 on linux-sim, 256 on esp32). */
  commandQueueLength?: number;
}

export interface Outcome {
  conn: number;
  addrs: string | undefined;
  /** What the command resolves to (an MQTT packet id), 0 when nothing. */
  number: number;
}

/** A connection being opened: its events carry the request until it settles. */
interface Opening {
  /** Gets the connection's events from its first on (mqttConnect, sntpConnect). */
  handler?: AsyncHandler;
  conn?: AsyncConnection;
}

/** A command waiting for its RESULT; value makes what its promise resolves to (undefined without). */
interface Pending extends Deferred<unknown> {
  value?: (outcome: Outcome) => unknown;
}

/**
 * The parts a firmware links in by importing their module, which then provides
 * itself here: a firmware that does not import one carries none of its code
 * (the MQTT client is about 17 KB of bytecode, the broker about 42 KB of flash).
 */
interface Optional {
  "mongoose/mqtt-client"?: (am: AsyncManager, url: string, options: MqttClientOptions) => MqttClient;
  "mongoose/mqtt-broker"?: (am: AsyncManager, url: string, options: MqttBrokerOptions,
    report: (error: unknown) => void) => Promise<MqttBroker>;
}
const optional: Optional = {};

/** @internal called once by each module of Optional when it is imported. */
export function _provide<K extends keyof Optional>(module: K, make: NonNullable<Optional[K]>): void {
  optional[module] = make;
}

function linked<K extends keyof Optional>(module: K, what: string): NonNullable<Optional[K]> {
  const make = optional[module];
  if (!make) throw new Error(`${what}: not in this firmware, which links it in with import "${module}" once`);
  return make;
}

export interface AsyncTimer {
  readonly active: boolean;
  cancel(): void;
}

export class AsyncManager {
  /** The manager's own handler, for connections without one. */
  handler: AsyncHandler | undefined;
  #native: object | undefined;
  /** A copy: what the caller changes later does not count. */
  readonly #options: AsyncManagerOptions;
  #state: "new" | "starting" | "running" | "closing" | "closed" = "new";
  readonly #conns = new Map<number, AsyncConnection>();
  readonly #requests = new Map<number, Pending>();
  readonly #opening = new Map<number, Opening>();
  /** The last command's request id: 3 to 2^32 - 1, as C keeps it (0 none, 1 start, 2 close). */
  #lastRequest = 2;
  /** timerAdd's timers that may still fire: close() clears them, or they would keep the firmware alive. */
  readonly #timers = new Set<TimerID>();
  #closing: Promise<void> | undefined;
  /**
   * @internal the native manager while running, else undefined: what says whether
   * it runs (running, _native), a field as serve's replies read it per request and
   * XS reads a field for a fifth of a getter's cost. Set and cleared with #state's "running".
   */
  _live: object | undefined;
  #started: Promise<unknown> | undefined;

  constructor(handler?: AsyncHandler, options: AsyncManagerOptions = {}) {
    bindNativeOnce();
    this.handler = handler;
    this.#options = { ...options };
  }

  /** Runs fn with a started AsyncManager and closes it afterwards, whatever happens. */
  static async run<T>(fn: (am: AsyncManager) => Promise<T> | T, options?: AsyncManagerOptions & { handler?: AsyncHandler }): Promise<T> {
    const am = new AsyncManager(options?.handler, options);
    await am.start();
    try {
      return await fn(am);
    } finally {
      await am.close();
    }
  }

  /** `await using am = new AsyncManager()` closes it when the scope ends (the runtime defines the symbol). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  get running(): boolean {
    return this._live !== undefined;
  }
  /** The mg_mgr belongs to the poll task; JavaScript reaches it through this object. */
  get manager(): AsyncManager {
    this.#check();
    return this;
  }
  get connections(): AsyncConnection[] {
    return [...this.#conns.values()];
  }

  async start(): Promise<void> {
    if (this.#state !== "new") throw new Error(`AsyncManager is ${this.#state}: start() works once`);
    this.#state = "starting";
    const started = deferred<unknown>();
    this.#started = started.promise;
    this.#requests.set(START_REQUEST, started);
    this.#native = native.create(this.#dispatch, this.#options.pollInterval ?? 100, this.#options.commandQueueLength);
    native.start(this.#native);
    try {
      await started.promise;
    } catch (error) {
      this.#state = "closed";
      throw error;
    }
    this.#state = "running";
    this._live = this.#native;
  }

  /** Stops the poll task and closes every connection; never deadlocks, see the README. */
  close(): Promise<void> {
    if (this.#state === "new" || this.#state === "closed") {
      this.#state = "closed";
      return Promise.resolve();
    }
    return (this.#closing ??= this.#shutdown());
  }

  async #shutdown(): Promise<void> {
    if (this.#state === "starting") await this.#started?.catch(ignore);
    this.#state = "closing";
    this._live = undefined;
    for (const id of this.#timers) clearInterval(id);
    this.#timers.clear();
    const done = deferred<unknown>();
    this.#requests.set(CLOSE_REQUEST, done);
    await stopPollTask(this.#native!, done.promise, this.#options.shutdownTimeout ?? 30000);
    this.#state = "closed";
    for (const d of this.#requests.values()) fail(d, new Error("AsyncManager closed"));
    this.#requests.clear();
    this.#opening.clear();
  }

  #check(): void {
    if (!this._live) throw notStarted();
  }

  /** @internal the native manager; throws unless running. */
  get _native(): object {
    const live = this._live;
    if (!live) throw notStarted();
    return live;
  }

  // Wraps, skipping ids still waiting: a device up for months posts 2^32 commands.
  #newRequest(): number {
    do this.#lastRequest = this.#lastRequest === 0xffffffff ? 3 : this.#lastRequest + 1;
    while (this.#requests.has(this.#lastRequest));
    return this.#lastRequest;
  }

  /** @internal test hook: the next command's request id is after this one. */
  set _lastRequest(id: number) {
    this.#lastRequest = id;
  }

  /**
   * @internal queues a command whose completion settles the returned promise (with
   * value's result). When it cannot post, the promise rejects; an open's call
   * (opening given) throws instead: #connectWith rewords only the poll task's
   * reasons, and a bad option stays the TypeError it is.
   */
  _command<T = void>(post: (am: object, request: number) => void, value?: (outcome: Outcome) => T,
    opening?: Opening): Promise<T> {
    const am = this._native;
    const request = this.#newRequest();
    const pending: Pending = deferred<unknown>();
    pending.value = value;
    this.#requests.set(request, pending);
    if (opening) this.#opening.set(request, opening);
    try {
      post(am, request);
    } catch (error) {
      this.#requests.delete(request);
      if (!opening) return Promise.reject(error);
      this.#opening.delete(request);
      throw error;
    }
    return pending.promise as Promise<T>;
  }

  #open(post: (am: object, request: number) => void, opening: Opening = {}): Promise<AsyncConnection> {
    return this._command(post, (outcome) => this.#connection(outcome.conn, outcome.addrs), opening);
  }

  /**
   * Listens; resolves to the listening connection once bound, rejects if it cannot (port in use).
   * A TLS URL (https://, wss://, tls://...) needs options.tls with cert and key: every
   * accepted connection then speaks TLS. The limits are Manager.listen's.
   */
  listen(url: string, handler?: AsyncHandler, options?: { http?: boolean; tls?: TlsOptions } & ListenLimits): Promise<AsyncConnection> {
    return this.#listen(url, parsesHttp(url, options?.http) ? XM_AM_KIND_HTTP : XM_AM_KIND_RAW, handler, options);
  }

  async #listen(url: string, kind: number, handler: AsyncHandler | undefined,
    options: { tls?: TlsOptions } & ListenLimits | undefined): Promise<AsyncConnection> {
    const conn = await this.#open((am, request) => nativeOpen(am, true, url, kind, request, options?.tls, options));
    if (handler) conn.handler = handler;
    return conn;
  }

  /**
   * Connects; resolves once connected (with TLS: once the handshake is done), rejects on
   * DNS, connect or TLS error, timeout or abort. A TLS URL (https://, tls://...) needs
   * options.tls with ca, or skipVerification: true; name defaults to the URL's host.
   */
  connect(url: string, handler?: AsyncHandler, options: { http?: boolean; timeout?: number; signal?: AbortSignal; tls?: TlsOptions } = {}): Promise<AsyncConnection> {
    const kind = parsesHttp(url, options.http) ? XM_AM_KIND_HTTP : XM_AM_KIND_RAW;
    return this.#connectWith("connect", url, (am, request) => nativeOpen(am, false, url, kind, request, options.tls), handler, options);
  }

  /** A WebSocket client; resolves once the handshake is done. wss:// takes options.tls as connect does. */
  wsConnect(url: string, handler?: AsyncHandler, options: { timeout?: number; signal?: AbortSignal; tls?: TlsOptions } = {}): Promise<AsyncConnection> {
    return this.#connectWith("connect", url, (am, request) => nativeOpen(am, false, url, XM_AM_KIND_WS, request, options.tls), handler, options);
  }

  // early: the handler gets the connection's events from the first (OPEN) on, as
  // with Manager, instead of from the settling on. Async: not started or a bad
  // option (#open throws) is a rejection like any other failure.
  async #connectWith(what: string, url: string, post: (am: object, request: number) => void, handler: AsyncHandler | undefined,
    options: { timeout?: number; signal?: AbortSignal }, early = false): Promise<AsyncConnection> {
    const opening: Opening = { handler: early ? handler : undefined };
    const open = this.#open(post, opening);
    // mongoose's reasons ("socket error") do not say what failed: name the URL.
    const opened = open.catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      const bare = message.startsWith(`${what} ${url}: `) ? message.slice(`${what} ${url}: `.length) : message;
      throw new Error(`${what} ${url}: ${bare}`);
    });
    const result = withDeadline(opened, options.timeout ?? 30000, options.signal, `${what} ${url}`);
    // A late connection after a timeout or abort is closed, not leaked; so is one
    // still waiting for its protocol's handshake (an MQTT broker that never answers).
    result.catch(() => {
      opening.conn?.close();
      opened.then((conn) => conn.close(), () => undefined);
    });
    const conn = await result;
    if (handler) conn.handler = handler;
    return conn;
  }

  /**
   * An MQTT client (options as Manager.mqttConnect's, and tls for mqtts:// as
   * connect's); resolves once the broker accepted it (CONNACK 0), rejects when it refuses (naming the code), on a DNS or
   * connect error, timeout or abort. The handler gets MQTT_OPEN and every other event.
   */
  async mqttConnect(url: string, options: AsyncMqttConnectOptions = {}): Promise<AsyncConnection> {
    const tls = tlsFor(`mqttConnect ${url}`, url, options.tls, true);
    return this.#connectWith("mqttConnect", url, (am, request) => {
      if (tls) native.mqttConnect(am, url, ...mqttConnectArgs(options), request, tls.ca, tls.cert, tls.key, tls.name, tls.skipVerification ?? false);
      else native.mqttConnect(am, url, ...mqttConnectArgs(options), request);
    }, options.handler, options, true);
  }

  /**
   * A resilient MQTT client (mqtt-client.ts): returned at once, it connects,
   * pings, reconnects, resubscribes and redelivers by itself; await client.connected.
   * Needs `import "mongoose/mqtt-client"` once in the firmware.
   */
  mqtt(url: string, options: MqttClientOptions = {}): MqttClient {
    this.#check();
    return linked("mongoose/mqtt-client", `mqtt ${url}`)(this, url, options);
  }

  /**
   * Accepts MQTT clients; resolves to the listener once bound. As with Manager it
   * parses, the handler answers (MQTT_CMD for each packet: mqttSendHeader + send,
   * mqttPong) and routes messages itself: mqttBroker() does all that. A client is
   * parsed in the version its CONNECT names (3.1.1 or 5). mqtts:// takes options.tls as listen does.
   */
  mqttListen(url: string, handler?: AsyncHandler, options?: ListenLimits & { tls?: TlsOptions }): Promise<AsyncConnection> {
    return this.#listen(url, XM_AM_KIND_MQTT, handler, options);
  }

  /**
   * An MQTT broker (3.1, 3.1.1 and 5 clients); resolves once it listens. See
   * MqttBrokerOptions for its limits, and the README for what it keeps.
   * broker.publish() and broker.subscribe() are the firmware's own. The firmware
   * links the broker in with `import "mongoose/mqtt-broker"`, once, anywhere.
   */
  async mqttBroker(url: string, options: MqttBrokerOptions = {}): Promise<MqttBroker> {
    this.#check();
    return linked("mongoose/mqtt-broker", `mqttBroker ${url}`)(this, url, options,
      (error) => this.#report(error, undefined, MG_EV_MQTT_MSG));
  }

  /**
   * Asks an SNTP server for the time ("udp://host:123"); resolves to the connection
   * once it can send (mongoose sends the first request). SNTP_TIME brings the epoch
   * milliseconds to the handler; mongoose closes the connection after the first
   * reply, or after 3 s without one.
   */
  sntpConnect(url: string, handler?: AsyncHandler, options: { timeout?: number; signal?: AbortSignal } = {}): Promise<AsyncConnection> {
    return this.#connectWith("sntpConnect", url, (am, request) => native.open(am, false, url, XM_AM_KIND_SNTP, request), handler, options, true);
  }

  /** The time from an SNTP server ("udp://host:123"), in epoch milliseconds (for new Date(ms)). */
  sntp(url: string, options?: SntpOptions): Promise<number> {
    return sntp(this, url, options);
  }

  /** @deprecated sntp()'s former name, for one release. */
  sntpTime(url: string, options?: SntpOptions): Promise<number> {
    return sntp(this, url, options, "sntpTime");
  }

  /**
   * Keeps the firmware's clock (Date.now(), new Date(), TLS's certificate dates)
   * in step with an SNTP server: a sync now, then every options.every ms (default
   * hourly) until options.signal aborts or close(). Resolves to the time of the
   * first sync; a later one that fails goes to the errorHandler.
   */
  syncClock(url: string, options: SyncClockOptions = {}): Promise<number> {
    this.#check();
    return syncClock(this, url, options, (error) => this.#report(error, undefined, MG_EV_SNTP_TIME));
  }

  /**
   * Serves HTTP with an async handler per request; a throw or rejection answers 500.
   * https:// takes options.tls, and the limits are taken, as listen does.
   */
  serve(url: string, handler: ServeHandler, options?: { tls?: TlsOptions } & ListenLimits): Promise<AsyncConnection> {
    return this.listen(url, serveRequests(this, handler, (error, conn) => this.#report(error, conn, MG_EV_HTTP_MSG)),
      { ...options, http: true });
  }

  /** An HTTP request; the response's body is read whole. */
  fetch(url: string, options: FetchOptions = {}): Promise<Response> {
    return fetch(this, url, options);
  }

  /** Resolves after ms; rejects when the signal aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (!this.running) return Promise.reject(notStarted());
    return withDeadline(new Promise<void>(() => undefined), ms, signal, "sleep", true);
  }

  /** Queues work onto the XS task (JS's own microtask queue here; native code uses xm_post). */
  schedule<T>(work: (() => T | Promise<T>) | Promise<T>): Promise<T> {
    if (!this.running) return Promise.reject(notStarted());
    return typeof work === "function" ? Promise.resolve().then(work) : Promise.resolve(work);
  }

  /** Calls callback every ms (or once) on the XS task, as the runtime's timers do, until cancel() or close(). */
  timerAdd(ms: number, callback: () => void, options: { repeat?: boolean; runNow?: boolean } = {}): AsyncTimer {
    this.#check();
    if (options.runNow) callback();
    const timers = this.#timers;
    const id = options.repeat
      ? setInterval(callback, ms)
      : setTimeout(() => {
        timers.delete(id);
        callback();
      }, ms);
    timers.add(id);
    return {
      get active() {
        return timers.has(id);
      },
      cancel() {
        timers.delete(id);
        clearInterval(id);
      },
    };
  }

  /**
   * An MG_EV_WAKEUP with data for a live connection; false when it is not live. Any
   * size: the data travels on the command queue, not in a datagram as Manager's.
   */
  wakeup(connectionId: number, data?: Bytes): boolean {
    const am = this._native;
    if (!this.#conns.has(connectionId)) return false;
    native.wakeup(am, connectionId, data);
    return true;
  }

  /** @internal test hook: makes the poll task block in "native work" for ms. */
  _stall(ms: number): void {
    native.stall(this._native, ms);
  }

  // The connection with this id, made at its first event or result; one a listener
  // accepted (listener: its id) starts with the listener's handler, as with Manager.
  #connection(id: number, addrs: string | undefined, listener = 0): AsyncConnection {
    let conn = this.#conns.get(id);
    if (!conn) {
      conn = new AsyncConnection(this, id);
      this.#conns.set(id, conn);
      if (listener) conn.handler = this.#conns.get(listener)?.handler;
    }
    if (addrs) conn._addresses(addrs);
    return conn;
  }

  // An arrow the native side calls directly: no wrapper call per event.
  readonly #dispatch = (id: number, ev: number, payload: unknown, value: number, number: number, addrs: string | undefined,
    request: number): void => {
    let data = payload as EventData;
    // The most common event first, with the fewest checks: a request of a known
    // connection not being opened brings it nothing but its flags. GONE is not among
    // them, as the connection's CLOSE comes after its requests.
    let conn = ev === MG_EV_HTTP_MSG && !request ? this.#conns.get(id) : undefined;
    if (conn) {
      conn._bits = value;
    } else if (ev === XM_AM_EV_RESULT) {
      if (this.#opening.size) this.#opening.delete(request);
      const d = this.#requests.get(request);
      if (!d) return;
      this.#requests.delete(request);
      if (value !== 0) fail(d, new Error(typeof data === "string" ? data : "failed"));
      else if (d.value) d.resolve(d.value({ conn: number || id, addrs, number }));
      else d.resolve(undefined);
      return;
    } else {
      conn = this.#conns.get(id) ??
        this.#connection(id, undefined, ev === MG_EV_OPEN || ev === MG_EV_ACCEPT ? number : 0);
      const opening = request ? this.#opening.get(request) : undefined;
      if (opening) {
        opening.conn = conn;
        conn.handler ??= opening.handler;
      }
      // As the Manager passes them: the CONNACK's return code, the epoch milliseconds.
      if (ev === MG_EV_MQTT_OPEN || ev === MG_EV_SNTP_TIME) data = number;
      conn._event(ev, data, value, addrs);
      if (ev === MG_EV_CLOSE) this.#conns.delete(id);
    }
    const handler = conn.handler ?? this.handler;
    if (!handler) return;
    if (ev === MG_EV_HTTP_MSG && (handler as Partial<CatchingHandler>)._catches) {
      // serve's, per request: no try around it, which would cost XS a setjmp.
      (handler as CatchingHandler)(conn, ev, data, id);
      return;
    }
    const sends = conn._sends;
    try {
      const result = handler(conn, ev, data);
      if (result && typeof (result as Promise<void>).then === "function") this.#failedIfRejects(result as Promise<void>, conn, ev, sends);
    } catch (error) {
      this.#failed(error, conn, ev, sends);
    }
  };

  // Apart from the dispatch: an arrow in it would make XS give conn, ev and sends
  // closures of their own on every event, rejection or not.
  #failedIfRejects(result: Promise<void>, conn: AsyncConnection, ev: number, sends: number): void {
    result.then(undefined, (error) => this.#failed(error, conn, ev, sends));
  }

  #report(error: unknown, conn: AsyncConnection | undefined, ev: number): void {
    reportError(this.#options.errorHandler ?? defaultErrorHandler, error, conn, ev);
  }

  // A handler threw or rejected: tell the errorHandler, and answer 500 to an HTTP
  // request it left unanswered (sends: the connection's send count before it ran).
  #failed(error: unknown, conn: AsyncConnection, ev: number, sends: number): void {
    this.#report(error, conn, ev);
    // Not after close(): reply() would throw "not started" out of the dispatch.
    if (ev === MG_EV_HTTP_MSG && conn._sends === sends && !conn.isClosed && this.running)
      conn.reply(500, "Internal Server Error\n").catch(ignore);
  }
}

// Marked handled first: a handler written for Manager calls conn.reply() without
// awaiting it, and a client that left meanwhile must not make that an unhandled
// rejection (fatal here). Whoever awaits the promise still sees the rejection.
function fail(pending: Deferred<unknown>, error: Error): void {
  pending.promise.catch(ignore);
  pending.reject(error);
}

function notStarted(): Error {
  return new Error("AsyncManager is not started");
}

// A LISTEN or CONNECT of kind XM_AM_KIND_RAW, _HTTP or _WS, or an MQTT LISTEN; a TLS URL takes options, a listener its limits.
function nativeOpen(am: object, listen: boolean, url: string, kind: number, request: number, options: TlsOptions | undefined,
  limits: ListenLimits = {}): void {
  const tls = tlsFor(`${listen ? "listen" : "connect"} ${url}`, url, options, !listen);
  const { headersTimeout, idleTimeout, maxConnections } = limits;
  if (tls) native.open(am, listen, url, kind, request, headersTimeout, idleTimeout, maxConnections, tls.ca, tls.cert, tls.key, tls.name, tls.skipVerification ?? false);
  else native.open(am, listen, url, kind, request, headersTimeout, idleTimeout, maxConnections);
}
