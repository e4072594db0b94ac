// SPDX-License-Identifier: MIT
// HTTP clients for the tests, and the checks a served firmware must pass
// wherever it runs: Node's http client (with keep-alive when given an agent) and
// raw sockets held open together, so that "simultaneous" means simultaneous.
import http from "http";
import net from "net";

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Whether the request went over a socket the agent had kept alive. */
  reused: boolean;
}

export function request(port: number, method: string, uri: string, options: { body?: Buffer | string; agent?: http.Agent; timeoutMs?: number } = {}): Promise<Answer> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: uri, agent: options.agent ?? false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), reused: req.reusedSocket }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${uri}: no answer in ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(options.body);
  });
}

/** size bytes, every value in turn with a shift each 256 so that a misplaced block shows. */
export function pattern(size: number): Buffer {
  return Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
}

export interface Held {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A kept-alive raw connection: ask() sends a GET and resolves with its answer. */
interface Line {
  socket: net.Socket;
  ask(uri: string): Promise<Held>;
  /** Whether the server has closed it. */
  closed(): boolean;
}

function open(port: number): Promise<Line> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let data = Buffer.alloc(0);
    let closed = false;
    let waiting: { resolve: (h: Held) => void; reject: (e: Error) => void; uri: string } | undefined;
    const parse = () => {
      const end = data.indexOf("\r\n\r\n");
      if (!waiting || end < 0) return;
      const [first, ...fields] = data.subarray(0, end).toString("latin1").split("\r\n");
      const headers: Record<string, string> = {};
      for (const f of fields) headers[f.slice(0, f.indexOf(":")).toLowerCase()] = f.slice(f.indexOf(":") + 1).trim();
      const length = Number(headers["content-length"]);
      if (data.length < end + 4 + length) return;
      const body = data.subarray(end + 4, end + 4 + length).toString();
      data = data.subarray(end + 4 + length);
      const w = waiting;
      waiting = undefined;
      w.resolve({ status: Number(first.split(" ")[1]), headers, body });
    };
    const gone = (why: string) => {
      closed = true;
      waiting?.reject(new Error(`${waiting.uri}: the connection ${why} before the answer`));
      waiting = undefined;
    };
    socket.on("data", (d: Buffer) => {
      data = Buffer.concat([data, d]);
      parse();
    });
    socket.on("end", () => gone("ended"));
    socket.on("close", () => gone("closed"));
    socket.on("error", (e) => {
      gone(`failed (${e.message})`);
      reject(e);
    });
    socket.on("connect", () => resolve({
      socket,
      closed: () => closed,
      ask: (uri) => new Promise<Held>((resolve, reject) => {
        waiting = { resolve, reject, uri };
        socket.write(`GET ${uri} HTTP/1.1\r\nHost: board\r\n\r\n`);
      }),
    }));
  });
}

export interface Simultaneous {
  /** The answers to the requests sent on every connection at once. */
  answers: Held[];
  /** The answers to each connection's first request, sent as it opened. */
  opened: Held[];
  /** How many of the n connections the server had closed by the end. */
  closedByServer: number;
}

/**
 * Opens n kept-alive connections to 127.0.0.1:port, one after another, each with
 * a first request (GET first(i)) answered before the next opens; then, with all n
 * open, sends GET uri(i) on every one at once and waits for every answer (or
 * rejects after timeoutMs naming those missing). The connections are closed only
 * then, so the server held all n at once and answered n requests in flight together.
 *
 * One after another because of QEMU's user network: its --forward (hostfwd)
 * socket listens with a backlog of 1 (`ss -ltn` shows Send-Q 1), so a burst of
 * connects waits in this machine's kernel for SYN-ACK retransmits of 1, 2, 4, 8 s
 * before slirp accepts them; a board behind a real network would see the burst.
 */
export async function simultaneous(port: number, n: number, first: (i: number) => string, uri: (i: number) => string,
  timeoutMs = 20_000): Promise<Simultaneous> {
  const lines: Line[] = [];
  try {
    const opened: Held[] = [];
    for (let i = 0; i < n; i++) {
      lines.push(await open(port));
      opened.push(await lines[i].ask(first(i)));
    }
    const got: Array<Held | undefined> = lines.map(() => undefined);
    const answers = lines.map((l, i) => l.ask(uri(i)).then((h) => (got[i] = h)));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms on ${got.flatMap((g, i) => (g ? [] : [uri(i)])).join(", ")}`)), timeoutMs);
    });
    try {
      return { answers: await Promise.race([Promise.all(answers), late]), opened, closedByServer: lines.filter((l) => l.closed()).length };
    } finally {
      clearTimeout(timer);
    }
  } finally {
    for (const l of lines) l.socket.destroy();
  }
}
