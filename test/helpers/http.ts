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
  /** Whether the server had closed the socket by the time every answer was in. */
  closedByServer: boolean;
}

/**
 * Opens n connections to 127.0.0.1:port and holds them all open; once every one
 * is connected, sends GET uri(i) on each, and resolves when every answer is in
 * (or rejects after timeoutMs naming those missing). The sockets are closed only
 * then: the server had all n connections open at once.
 */
export async function simultaneous(port: number, n: number, uri: (i: number) => string, timeoutMs = 20_000): Promise<Held[]> {
  const sockets = await Promise.all(Array.from({ length: n }, () => new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  })));
  const closed = sockets.map(() => false);
  try {
    const answers = sockets.map((s, i) => new Promise<Held>((resolve, reject) => {
      let data = Buffer.alloc(0);
      s.on("end", () => (closed[i] = true));
      s.on("close", () => (closed[i] = true));
      s.on("error", (e) => reject(new Error(`connection ${i} (${uri(i)}): ${e.message}`)));
      s.on("data", (d: Buffer) => {
        data = Buffer.concat([data, d]);
        const end = data.indexOf("\r\n\r\n");
        if (end < 0) return;
        const [first, ...fields] = data.subarray(0, end).toString("latin1").split("\r\n");
        const headers: Record<string, string> = {};
        for (const f of fields) headers[f.slice(0, f.indexOf(":")).toLowerCase()] = f.slice(f.indexOf(":") + 1).trim();
        const length = Number(headers["content-length"]);
        if (data.length < end + 4 + length) return;
        resolve({ status: Number(first.split(" ")[1]), headers, body: data.subarray(end + 4, end + 4 + length).toString(), closedByServer: false });
      });
      s.write(`GET ${uri(i)} HTTP/1.1\r\nHost: board\r\n\r\n`);
    }));
    const got: Array<Held | undefined> = sockets.map(() => undefined);
    answers.forEach((a, i) => a.then((h) => (got[i] = h), () => undefined));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms on ${got.flatMap((g, i) => (g ? [] : [uri(i)])).join(", ")}`)), timeoutMs);
    });
    try {
      const held = await Promise.race([Promise.all(answers), late]);
      return held.map((h, i) => ({ ...h, closedByServer: closed[i] }));
    } finally {
      clearTimeout(timer);
    }
  } finally {
    for (const s of sockets) s.destroy();
  }
}
