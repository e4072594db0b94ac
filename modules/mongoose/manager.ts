// SPDX-License-Identifier: MIT
// Manager: an mg_mgr you poll yourself, as in the seed (cymongoose), or that the
// firmware's loop polls for you (run()). Handlers run inside poll(), or each as a
// turn of the loop; a handler that throws goes to errorHandler, and an HTTP
// request whose handler threw before answering gets a 500 rather than silence.
import * as native from "mongoose/native";
import * as nativeMqtt from "mongoose/native-mqtt";
import * as nativeNet from "mongoose/native-net";
import { WAKEUP_MAX_BYTES } from "mongoose/limits";
import { Connection, type Handler } from "mongoose/connection";
import { HttpMessage, WsMessage, MqttMessage } from "mongoose/messages";
import { defaultErrorHandler, reportError } from "mongoose/errors";
import { mqttConnectArgs, type MqttConnectOptions } from "mongoose/mqtt";
import { parsesHttp } from "mongoose/scheme";
import { XM_AM_KIND_HTTP, XM_AM_KIND_MQTT, XM_AM_KIND_RAW, XM_AM_KIND_SNTP, XM_AM_KIND_WS } from "mongoose/wire";

export type ErrorHandler = (error: unknown, conn: Connection, ev: number) => void;

export interface HandlerOptions {
  /**
   * The events (MG_EV_*) the handler is called for; by default every event. Others
   * stay in C: an HTTP server that asks for [MG_EV_HTTP_MSG] pays nothing for
   * POLL, which fires for every connection on every poll. Accepted connections
   * take their listener's list; connections are still listed and closed as usual.
   */
  events?: readonly number[];
}

// Every event, the default: C's XM_MG_EVENTS_ALL, as the int32 it reads.
const ALL_EVENTS = -1;

// The bit mask C checks before calling into JavaScript; bit ev for event ev.
function eventMask(events: readonly number[]): number {
  let mask = 0;
  for (const ev of events) {
    if (!Number.isInteger(ev) || ev < 0 || ev > 31)
      throw new RangeError(`events: ${ev} is not an event a handler can ask for (0 to 31, MG_EV_*)`);
    mask |= 1 << ev;
  }
  return mask;
}

export interface ManagerOptions extends HandlerOptions {
  /** Set up mongoose's wakeup pipe so that wakeup() works before run(), which sets it up otherwise (it costs a socket pair). */
  enableWakeup?: boolean;
  /** Gets what handlers throw; by default it is logged with console.error. */
  errorHandler?: ErrorHandler;
  /**
   * The DNS server for names ("udp://192.168.1.1:53"); mongoose's default is
   * udp://8.8.8.8:53. "localhost" and IP addresses never need one.
   */
  dnsServer?: string;
  /** How long a lookup may take before ERROR "DNS timeout" (mongoose's default: 3000). */
  dnsTimeoutMs?: number;
}

export interface ConnectOptions extends HandlerOptions {
  /** Parse HTTP; by default inferred from the URL (http://, https://, ws://, wss://). */
  http?: boolean;
}

/**
 * A listener's limits, so that it keeps serving whatever clients do; the same for
 * Manager and AsyncManager. Left out, each takes its host's default (README,
 * "Listener limits"); 0 or Infinity is no limit. Checked once per poll round
 * (pollMs, pollInterval): a deadline is met within about two poll intervals.
 */
export interface ListenLimits {
  /**
   * ms an HTTP request's head (request line and headers) may take from its first
   * byte until it is complete; past it, the client gets 408 Request Timeout and the
   * connection closes. Each request of a kept-alive connection gets its own; it does
   * not run while a response is owed. HTTP listeners only.
   */
  headersTimeout?: number;
  /**
   * ms an accepted connection may move no byte either way before it is closed:
   * kept-alive HTTP between requests, a WebSocket nobody pings or writes to, raw
   * TCP. It does not run while an HTTP response is owed (the handler is working).
   */
  idleTimeout?: number;
  /**
   * Accepted connections open at once. One more is refused as soon as it comes:
   * an HTTP listener answers 503 Service Unavailable with Connection: close (a TLS
   * one just closes), a raw or MQTT listener closes it. The handler never hears of
   * it, and the connections already open are served as before.
   */
  maxConnections?: number;
}

export interface ListenOptions extends ConnectOptions, ListenLimits {}

export interface TimerOptions {
  repeat?: boolean;
  /** Also call the callback at once. */
  runNow?: boolean;
}

/**
 * The most bytes one Manager.wakeup() carries: 16,376 in the simulator. mongoose
 * reads a wakeup as one datagram of MG_IO_SIZE bytes, the connection id included
 * (MG_IO_SIZE is 16,384 on Linux; mongoose's default for ESP32 and FreeRTOS
 * builds is 512). More throws a RangeError. A constant per host (mongoose/limits):
 * a preloaded module cannot ask C at load.
 */
export { WAKEUP_MAX_BYTES };

// The first Manager or AsyncManager connects the C binding: it gives C the
// classes' prototypes and checks this host's constants against C. Not at load:
// preloaded modules run at build time, where the binding's C does not exist.
let bound = false;

/** @internal for AsyncManager */
export function bindNativeOnce(): void {
  if (bound) return;
  bound = true;
  native.register(NativeManager.prototype, Connection.prototype, HttpMessage.prototype, WsMessage.prototype,
    MqttMessage.prototype, NativeTimer.prototype);
  const max = native.managerWakeupMax();
  if (max !== WAKEUP_MAX_BYTES)
    throw new Error(`mongoose/limits says WAKEUP_MAX_BYTES is ${WAKEUP_MAX_BYTES}, but the C binding carries ${max} bytes: fix this host's limits.ts`);
}

class NativeManager {}
class NativeTimer {}

/** A Manager timer (mg_timer): runs inside poll(), or as a turn of its own while run() serves. */
export class Timer {
  readonly #native: object;
  constructor(native: object) {
    this.#native = native;
  }
  get active(): boolean {
    return native.timerActive(this.#native);
  }
  /** Stops it; idempotent, safe inside its own callback. */
  cancel(): void {
    native.timerCancel(this.#native);
  }
}

export class Manager {
  readonly #native: object;
  // Read by C for every event it delivers (xm_mg_conn.c finds the handler and
  // calls it): a connection's own handler, else opening (the handler of the
  // connection being opened, see #open), else manager.
  readonly #handlers: { manager: Handler | undefined; opening: Handler | undefined } = { manager: undefined, opening: undefined };
  readonly #errorHandler: ErrorHandler;
  readonly #events: number;  // the mask of connections that use the Manager's handler
  #running: Promise<void> | undefined;  // run()'s

  constructor(handler?: Handler, options: ManagerOptions = {}) {
    bindNativeOnce();
    this.#handlers.manager = handler;
    this.#events = options.events ? eventMask(options.events) : ALL_EVENTS;
    this.#errorHandler = options.errorHandler ?? defaultErrorHandler;
    this.#native = native.managerCreate(this.#report, this.#handlers, options.enableWakeup ?? false);
    if (options.dnsServer !== undefined || options.dnsTimeoutMs !== undefined) {
      try {
        nativeNet.managerDns(this.#native, options.dnsServer, options.dnsTimeoutMs);
      } catch (error) {
        native.managerClose(this.#native);  // else it stays remembered, never collected
        throw error;
      }
    }
  }

  /** The handler for connections without their own. */
  get handler(): Handler | undefined {
    return this.#handlers.manager;
  }
  set handler(handler: Handler | undefined) {
    this.#handlers.manager = handler;
  }

  // Called by the native layer with what a handler threw (it answers an HTTP
  // request left unanswered with a 500 itself).
  readonly #report = (error: unknown, conn: object, ev: number): void => {
    reportError(this.#errorHandler, error, conn as Connection, ev);
  };

  /**
   * Runs mongoose for up to timeoutMs; handlers and timers run inside, and the
   * firmware's timers and promise jobs wait. Throws when called from the
   * Manager's own handlers or timers.
   */
  poll(timeoutMs = 0): void {
    native.managerPoll(this.#native, timeoutMs);
  }
  /**
   * Has the firmware's loop serve the Manager, beside its timers, promise jobs,
   * AsyncManagers and other running Managers, and returns at once: each event
   * is a turn of the loop. The promise resolves once close() has closed the
   * Manager, or when the firmware is asked to stop (Ctrl-C, SIGTERM). pollMs is
   * the longest mongoose waits before its own timers are checked. Calling it
   * again returns the same promise; at most 8 Managers run at once (more throws).
   */
  run(pollMs = 100): Promise<void> {
    if (!this.#running) {
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r));
      if (this.closed) resolve();
      else native.managerRun(this.#native, pollMs, resolve);
      this.#running = done;
    }
    return this.#running;
  }

  /** Listens on a URL ("http://0.0.0.0:8000", "tcp://127.0.0.1:1234", "udp://..."); throws if it cannot. */
  listen(url: string, handler?: Handler, options?: ListenOptions): Connection {
    return this.#open(true, url, parsesHttp(url, options?.http) ? XM_AM_KIND_HTTP : XM_AM_KIND_RAW, handler, options);
  }
  /** Connects to a URL; CONNECT (or ERROR) follows. */
  connect(url: string, handler?: Handler, options?: ConnectOptions): Connection {
    return this.#open(false, url, parsesHttp(url, options?.http) ? XM_AM_KIND_HTTP : XM_AM_KIND_RAW, handler, options);
  }
  wsConnect(url: string, handler?: Handler, options?: HandlerOptions): Connection {
    return this.#open(false, url, XM_AM_KIND_WS, handler, options);
  }
  /**
   * Connects to an MQTT broker ("mqtt://host:1883"); mongoose sends CONNECT at once,
   * MQTT_OPEN brings the CONNACK return code (0: accepted; else mongoose closes).
   */
  mqttConnect(url: string, options: MqttConnectOptions & HandlerOptions = {}): Connection {
    return this.#open(false, url, XM_AM_KIND_MQTT, options.handler, options);
  }
  /**
   * Accepts MQTT clients and parses their packets (MQTT_CMD for each, MQTT_MSG for
   * PUBLISH; mongoose acknowledges QoS 1/2 publishes). It is a parser, not a broker:
   * the handler answers CONNECT, SUBSCRIBE, PINGREQ... (mqttSendHeader + send,
   * mqttPong) and routes messages itself. A client is parsed in the version its CONNECT names (3.1.1 or 5).
   */
  mqttListen(url: string, handler?: Handler, options?: HandlerOptions & ListenLimits): Connection {
    return this.#open(true, url, XM_AM_KIND_MQTT, handler, options);
  }
  /** Asks an SNTP server for the time; SNTP_TIME brings epoch milliseconds. */
  sntpConnect(url: string, handler?: Handler, options?: HandlerOptions): Connection {
    return this.#open(false, url, XM_AM_KIND_SNTP, handler, options);
  }

  // mongoose calls back (OPEN; RESOLVE and even CONNECT for an address or UDP)
  // before the native open returns: C gives those to the new handler too.
  // The event list goes with the handler it was given with: a connection with a
  // handler of its own and no list gets every event, one without takes the Manager's.
  #open(listen: boolean, url: string, kind: number, handler: Handler | undefined,
    options: (ListenOptions & Omit<MqttConnectOptions, "handler">) | undefined): Connection {
    const events = options?.events ? eventMask(options.events) : handler ? ALL_EVENTS : this.#events;
    const outer = this.#handlers.opening;
    this.#handlers.opening = handler;
    try {
      const conn = (!listen && kind === XM_AM_KIND_MQTT
        ? nativeMqtt.managerMqttConnect(this.#native, url, events, ...mqttConnectArgs(options ?? {}))
        : native.managerOpen(this.#native, listen, url, kind, events, options?.headersTimeout, options?.idleTimeout,
          options?.maxConnections)) as Connection;
      if (handler) conn.handler = handler;
      return conn;
    } finally {
      this.#handlers.opening = outer;
    }
  }

  /**
   * Sends data (at most WAKEUP_MAX_BYTES, else a RangeError) to a connection as
   * MG_EV_WAKEUP. Thread-safe in C (mg_wakeup); from JavaScript, true only when a
   * live connection has that id.
   */
  wakeup(connectionId: number, data?: string | Uint8Array | ArrayBuffer): boolean {
    return native.managerWakeup(this.#native, connectionId, data);
  }
  /** The id of mongoose's wakeup pipe connection (0 until enableWakeup or run() sets the pipe up). */
  get wakeupId(): number {
    return native.managerWakeupId(this.#native);
  }
  /** What app native C receives to reach the mg_mgr: pass the Manager to xm_mg_mgr_of (c/xm_mg.h). */
  get nativeHandle(): object {
    return this.#native;
  }

  /** Calls callback every ms (or once) from inside poll(), or as a turn while run() serves. */
  timerAdd(ms: number, callback: () => void, options: TimerOptions = {}): Timer {
    return new Timer(native.timerAdd(this.#native, ms, callback, options.repeat ?? false, options.runNow ?? false));
  }

  /** The open connections (listeners included). */
  get connections(): Connection[] {
    return native.managerConnections(this.#native) as Connection[];
  }

  get closed(): boolean {
    return native.managerClosed(this.#native);
  }

  /** Closes every connection (CLOSE events fire) and frees mongoose; idempotent. Inside a handler it completes when poll returns. */
  close(): void {
    native.managerClose(this.#native);
  }
}
