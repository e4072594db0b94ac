// SPDX-License-Identifier: MIT
// AsyncManager.serve: an async handler per HTTP request, its answers in request order.
import { MG_EV_HTTP_MSG } from "mongoose/constants";
import { HttpMessage } from "mongoose/messages";
import type { Headers } from "mongoose/headers";
import type { EventData } from "mongoose/connection";
import type { AsyncConnection, CatchingHandler } from "mongoose/async-connection";
import type { AsyncManager } from "mongoose/async-manager";
import { ignore } from "mongoose/deferred";
// Named: XS looks a namespace's property up on every call.
import { reply as nativeReply } from "mongoose/native-async";

/**
 * A request handed to serve(): the message itself, copied for JavaScript by the
 * poll task and so valid across awaits, with text() and json() besides. Its
 * getters are HttpMessage's own: a request read through a wrapper paid XS a
 * second getter call for every field.
 */
export class Request extends HttpMessage {
  /** The message, for what takes one (conn.wsUpgrade): the request itself. */
  get message(): HttpMessage { return this; }
  text(): string { return this.bodyText; }
  json(): unknown { return JSON.parse(this.bodyText); }
}

export interface ServeResponse {
  status?: number;
  headers?: Headers;
  body?: string | Uint8Array;
}
/** Returns the response, or answers through conn itself (conn.wsUpgrade, conn.reply) and returns nothing. */
export type ServeHandler = (req: Request, conn: AsyncConnection) => ServeResponse | string | void | Promise<ServeResponse | string | void>;

type Answer = ServeResponse | string | void;

const requestPrototype = Request.prototype;
const { setPrototypeOf } = Object;

// Once nothing is pending, an idle kept-alive connection holds no promise.
function settled(conn: AsyncConnection, pending: Promise<void>): void {
  if (conn._serving === pending) conn._serving = undefined;
}

/**
 * The listen handler serve() installs: calls handler once per request and sends
 * what it returns; report gets what it throws (the client then gets a 500).
 */
export function serveRequests(am: AsyncManager, handler: ServeHandler,
  report: (error: unknown, conn: AsyncConnection) => void): CatchingHandler {
  // Sends a handler's response, unless it answered through conn itself (wsUpgrade,
  // reply) or the manager is closing. The reply is not awaited: the command queue
  // keeps responses in order, and no completion event has to cross back.
  function respond(conn: AsyncConnection, sends: number, response: Answer | null): void {
    if (conn._sends !== sends || conn.isClosed || !am._live) return;
    let status = 200;
    let body: string | Uint8Array = "";
    let headers: Headers | undefined;
    if (typeof response === "string") body = response;
    else if (response === undefined || response === null) {
      status = 500;
      body = "the handler returned no response\n";
    } else {
      status = response.status ?? 200;
      body = response.body ?? "";
      headers = response.headers;
      // Not Number.isInteger: a native call costs XS more than these three checks.
      if (typeof status !== "number" || !(status >= 100 && status <= 999) || status % 1 !== 0) {
        report(new RangeError(`serve: HTTP status ${status} is not an integer between 100 and 999`), conn);
        status = 500;
        body = "the handler returned an invalid status\n";
        headers = undefined;
      }
    }
    try {
      conn._reply(status, body, headers, false);
    } catch (failure) {
      unsent(conn, failure);
    }
  }

  // The command queue is full: this client gets no answer. Closing it (if even
  // that can be queued) beats leaving it waiting.
  function unsent(conn: AsyncConnection, failure: unknown): void {
    report(failure, conn);
    conn.close().catch(ignore);
  }

  function failed(conn: AsyncConnection, sends: number, error: unknown): void {
    report(error, conn);
    respond(conn, sends, { status: 500, body: "Internal Server Error\n" });
  }

  // Runs the handler for one request, queued when an earlier one on the connection
  // is still pending (then called again with queued set, once that one answered):
  // answers go out in request order. Returns a promise only when the handler
  // returned one. Never throws nor rejects. One function, not a handler calling an
  // answering one: a call costs XS more than all the checks below.
  // id: the connection's, which the dispatch passes (XS reads an argument for a
  // fraction of the id getter's cost).
  const serve = (conn: AsyncConnection, ev: number, data: EventData, id = conn.id, queued?: true): Promise<void> | undefined => {
    // The poll task hands an HTTP_MSG its request, or nothing when it had no memory
    // to copy it: no instanceof needed (it costs as much as a call).
    if (ev !== MG_EV_HTTP_MSG || !data) return undefined;
    if (!queued) {
      const previous = conn._serving;
      if (previous) {
        later(previous, conn, ev, data, id);
        return undefined;
      }
    }
    // Turned into a Request, not wrapped in one: no object to make, and the fields
    // read through one getter.
    const req = setPrototypeOf(data, requestPrototype) as Request;
    const sends = conn._sends;
    let response: Answer | Promise<Answer>;
    let returned = false;
    // One try for the handler and a string's reply: each costs XS a setjmp.
    try {
      response = handler(req, conn);
      returned = true;
      // A string, the common answer, goes out at once: no response object, no then
      // lookup (it walks String.prototype's chain), and only the check that matters.
      // The connection cannot have closed meanwhile unless this is a pipelined request;
      // a reply to a closed one is dropped by the poll task. What conn._reply does without
      // headers, inline, as a call costs more than the rest: once the manager is closing, nothing.
      if (typeof response === "string") {
        if (conn._sends === sends) {
          conn._sends++;
          const live = am._live;
          if (live) nativeReply(live, id, 200, response);
        }
        return undefined;
      }
    } catch (error) {
      if (returned) unsent(conn, error);
      else failed(conn, sends, error);
      return undefined;
    }
    if (!response || typeof (response as Promise<unknown>).then !== "function") {
      respond(conn, sends, response as Answer);
      return undefined;
    }
    const pending = answerWhenSettled(conn, sends, response as Promise<Answer>);
    // Every object saved here counts: a request stays live until its handler
    // answers, and a burst of 200 at once must fit the esp32 creation profile.
    // A queued one's is the chain's, which serve set before.
    if (!queued) conn._serving = pending;
    return pending;
  };

  // Apart from serve, as is answerWhenSettled: XS gives every variable an inner
  // function uses a closure of its own, made on each call of the function that
  // declares it, whichever branch runs (inside serve, six slots per request).
  function later(previous: Promise<void>, conn: AsyncConnection, ev: number, data: EventData, id: number): void {
    const next = () => serve(conn, ev, data, id, true);
    const chained = previous.then(next, next);
    conn._serving = chained;
    chained.then(() => settled(conn, chained));  // serve never rejects
  }

  function answerWhenSettled(conn: AsyncConnection, sends: number, response: Promise<Answer>): Promise<void> {
    const pending: Promise<void> = response.then((value) => {
      settled(conn, pending);
      respond(conn, sends, value);
    }, (error: unknown) => {
      settled(conn, pending);
      failed(conn, sends, error);
    });
    return pending;
  }
  // Nothing escapes it: serve catches and reports the handler's failures.
  return Object.assign(serve, { _catches: true as const });
}
