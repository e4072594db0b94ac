// SPDX-License-Identifier: MIT
// AsyncManager.fetch: one HTTP request on a connection of its own, the response
// read whole.
import { MG_EV_CLOSE, MG_EV_ERROR, MG_EV_HTTP_MSG } from "mongoose/constants";
import { HttpMessage } from "mongoose/messages";
import { headerLines, type Headers } from "mongoose/headers";
import type { TlsOptions } from "mongoose/tls";
import { withDeadline, type AbortSignal } from "mongoose/abort";
import { concat, utf8 } from "mongoose/bytes";
import { deferred } from "mongoose/deferred";
import type { AsyncManager } from "mongoose/async-manager";

export interface FetchOptions {
  method?: string;
  headers?: Headers;
  body?: string | Uint8Array;
  /** Milliseconds before the request fails (default 30000). */
  timeout?: number;
  signal?: AbortSignal;
  /** For https: see AsyncManager.connect. */
  tls?: TlsOptions;
}

/** What fetch() resolves to. */
export class Response {
  readonly status: number;
  readonly headers: Array<[string, string]>;
  // The AsyncManager's messages are copies owned by their object: valid as long as it is.
  readonly #msg: HttpMessage;
  /** @internal */
  constructor(msg: HttpMessage) {
    this.status = msg.status();
    this.headers = msg.headers;
    this.#msg = msg;
  }
  get ok(): boolean { return this.status >= 200 && this.status < 300; }
  /** The first value of a header, case-insensitively. */
  header(name: string): string | undefined { return this.#msg.header(name); }
  /** The body as UTF-8 text: a byte that starts no UTF-8 sequence reads as U+FFFD. */
  text(): Promise<string> { return Promise.resolve(this.#msg.bodyText); }
  json(): Promise<unknown> { return this.text().then((t) => JSON.parse(t)); }
  /** A copy of the body. */
  arrayBuffer(): Promise<ArrayBuffer> { return Promise.resolve(this.#msg.body.buffer as ArrayBuffer); }
}

/** AsyncManager.fetch: an HTTP request; the response's body is read whole. */
export async function fetch(am: AsyncManager, url: string, options: FetchOptions): Promise<Response> {
  const match = /^(https?):\/\/([^/?#]+)([^#]*)/i.exec(url);
  if (!match) throw new TypeError(`fetch: not an http(s) URL: ${url}`);
  const host = match[2];
  const path = match[3] || "/";
  const body = typeof options.body === "string" ? utf8(options.body) : options.body ?? new Uint8Array(0);
  const method = (options.method ?? "GET").toUpperCase();
  const head = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n` +
    headerLines(options.headers, "content-length") + `Content-Length: ${body.length}\r\n\r\n`;
  const response = deferred<Response>();
  const conn = await am.connect(url, (c, ev, data) => {
    if (ev === MG_EV_HTTP_MSG && data instanceof HttpMessage) {
      response.resolve(new Response(data));
      c.close();
    }
    // An error before the close says why (a response the XS heap has no room for, among others).
    else if (ev === MG_EV_ERROR) response.reject(new Error(`fetch ${url}: ${String(data)}`));
    else if (ev === MG_EV_CLOSE) response.reject(new Error(`fetch ${url}: the connection closed before a response`));
  }, { http: true, timeout: options.timeout, signal: options.signal, tls: options.tls });
  await conn.send(concat([utf8(head), body]));
  const result = withDeadline(response.promise, options.timeout ?? 30000, options.signal, `fetch ${url}`);
  result.catch(() => conn.close());
  return result;
}
