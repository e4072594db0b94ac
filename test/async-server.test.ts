// SPDX-License-Identifier: MIT
// AsyncManager as a server, with real Node clients: am.serve (an await on a
// timer, throws and rejections answering 500 through the errorHandler), a raw
// (conn, ev, data) handler, a JS handler busy for 2 s while the poll task keeps
// accepting, 200 concurrent keep-alive clients without cross-talk, commands for
// connections that have closed, and listen on a port in use.
import fs from "fs";
import http from "http";
import net from "net";
import { buildApp, makeApp } from "./helpers/sim";
import { freePort, sanitizerReports, startFirmware, type Running, acceptQueue, listenFresh } from "./helpers/net";


// serve port: am.serve; raw port: am.listen with a (conn, ev, data) handler.
function firmware(servePort: number, rawPort: number, usedPort: number): string {
  return `
import { AsyncManager, AsyncConnection, HttpMessage, MG_EV_HTTP_MSG, Request, type EventData } from "mongoose";
const am = new AsyncManager(undefined, {
  errorHandler: (error, conn, ev) => console.log("errorHandler", conn?.id, ev, (error as Error).message),
});
await am.start();

try {
  await am.listen("http://127.0.0.1:${usedPort}");
  console.log("listen-used did not fail");
} catch (error) {
  console.log("listen-used", (error as Error).message);
}

await am.serve("http://127.0.0.1:${servePort}", (req, conn) => {
  if (req.uri === "/sleep") {
    return (async () => {
      const began = Date.now();
      await am.sleep(50);
      return { status: 201, headers: { "X-Slept": String(Date.now() - began) }, body: "after sleep" };
    })();
  }
  if (req.uri === "/stream") {
    // Answers through conn, chunked: its head lets mongoose read the next pipelined
    // request at once, which must wait for this handler to finish its body.
    return (async () => {
      await conn.reply(200, "one,", { "Transfer-Encoding": "chunked" });
      await am.sleep(50);
      await conn.httpChunk("two");
      await conn.httpChunk("");
    })();
  }
  if (req.uri === "/throw") throw new Error("serve handler threw");
  if (req.uri === "/reject") return Promise.reject(new Error("serve handler rejected"));
  if (req.uri === "/id") {
    // A random delay interleaves the answers of different connections.
    const id = req.queryVar("n") ?? "";
    return am.sleep(Math.floor(Math.random() * 10)).then(() => ({
      headers: { "X-Id": id, "X-Conn": String(conn.id) },
      body: "answer for " + id,
    }));
  }
  // What plain JavaScript may return despite the types: null, a status out of range.
  if (req.uri === "/null") return am.sleep(1).then(() => JSON.parse("null") as string);
  if (req.uri === "/badstatus") return { status: 42, body: "never sent" };
  if (req.uri === "/fractionstatus") return { status: 200.5, body: "never sent" };
  if (req.uri === "/stringstatus") return { status: JSON.parse('"200"') as number, body: "never sent" };
  if (req.uri === "/request") {
    // What the request offers, read again after an await: it is the message itself.
    return am.sleep(1).then(() => ({ body: JSON.stringify({
      message: req.message === req, http: req instanceof HttpMessage, request: req instanceof Request,
      uri: req.uri, query: req.query, n: req.queryVar("n"), boundary: req.headerVar("Content-Type", "boundary"),
      user: req.credentials()?.user, text: req.text(), json: req.json(),
    }) }));
  }
  if (req.uri === "/echo") return { headers: { "Content-Type": "application/json" }, body: JSON.stringify({ method: req.method, body: req.text(), type: req.header("content-type") }) };
  return "served " + req.uri;
});

function raw(conn: AsyncConnection, ev: number, data: EventData): void | Promise<void> {
  if (ev !== MG_EV_HTTP_MSG || !(data instanceof HttpMessage)) return;
  if (data.uri === "/busy") {
    console.log("busy-start", Date.now());
    const end = Date.now() + 2000;
    while (Date.now() < end);  // blocks the XS task: JavaScript only, not the poll task
    console.log("busy-end", Date.now());
    conn.reply(200, "was busy");
  } else if (data.uri === "/throw") {
    throw new Error("raw handler threw");
  } else if (data.uri === "/reject") {
    return Promise.reject(new Error("raw handler rejected"));
  } else if (data.uri === "/late") {
    // Answers only after the client went away: the command must reject, not crash.
    conn.closed.then(async () => {
      try {
        await conn.reply(200, "too late");
        console.log("late reply resolved");
      } catch (error) {
        console.log("late reply rejected", conn.id, (error as Error).message);
      }
      conn.reply(200, "fire and forget");  // not awaited: must not take the firmware down
      console.log("late fire-and-forget", conn.id);
    });
  } else if (data.uri === "/chunked") {
    // The head's body is the first chunk; the handler writes the rest and the end.
    conn.reply(200, "one,", { "Transfer-Encoding": "chunked" });
    conn.httpChunk("two,");
    conn.httpSse("three", "3");
    conn.httpChunk("");
    if (data.header("connection") === "close") conn.drain();  // after what is queued is written
  } else if (data.uri === "/chunked-empty") {
    conn.reply(200, "", { "Transfer-Encoding": "chunked" });
    conn.httpChunk("only");
    conn.httpChunk("");
  } else if (data.uri === "/closed-send") {
    conn.close().then(() => conn.send("after close")).then(
      () => console.log("closed-send resolved"),
      (error) => console.log("closed-send rejected", conn.id, (error as Error).message));
  } else {
    conn.reply(200, "raw " + data.uri);
  }
}
await am.listen("http://127.0.0.1:${rawPort}", raw);
console.log("ready");
`;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  reused: boolean;
}

function request(port: number, path: string, options: { agent?: http.Agent; method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, agent: options.agent ?? false, method: options.method ?? "GET", headers: options.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body, reused: req.reusedSocket }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(20000, () => req.destroy(new Error(`timeout on ${path}`)));
    req.end(options.body);
  });
}


const lines = (fw: Running, prefix: string) => fw.stdout().split("\n").filter((l) => l.startsWith(prefix));

describe("AsyncManager server", () => {
  let fw: Running;
  let servePort: number;
  let rawPort: number;
  let usedPort: number;
  let blocker: net.Server;

  beforeAll(async () => {
    blocker = net.createServer();
    usedPort = await listenFresh(blocker);
    [servePort, rawPort] = [await freePort(), await freePort()];
    const exe = buildApp(makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }),
      "main.ts": firmware(servePort, rawPort, usedPort),
    }));
    fw = startFirmware(exe);
    await fw.waitFor(/^ready$/);
  });

  afterAll(async () => {
    const code = await fw?.stop();
    blocker?.close();
    // SIGTERM stops the XS task with the poll task running: a clean 143, no report.
    expect(sanitizerReports(fw.stderr())).toEqual([]);
    expect(code).toBe(143);
  });

  afterEach(() => {
    // mongoose's own log of the failed bind is expected; nothing else.
    // mongoose's log prefix has a fixed size: as its millisecond clock grows a hex digit,
    // the function name (mg_open_listen) loses a letter.
    const unexpected = fw.stderr().split("\n").filter((l) => l && !/mongoose\.c:\d+:mg_\w* +bind: 98|mg_listen +Failed/.test(l));
    expect(unexpected).toEqual([]);
  });

  it("listen on a port in use rejects with an error naming the URL", () => {
    expect(fw.stdout()).toMatch(new RegExp(`^listen-used listen http://127\\.0\\.0\\.1:${usedPort}: Address already in use$`, "m"));
  });

  it("serve answers from an async handler after an await on am.sleep(50)", async () => {
    const began = Date.now();
    const answer = await request(servePort, "/sleep");
    expect(answer.status).toBe(201);
    expect(answer.body).toBe("after sleep");
    expect(Number(answer.headers["x-slept"])).toBeGreaterThanOrEqual(49);
    expect(Date.now() - began).toBeGreaterThanOrEqual(49);
    expect((await request(servePort, "/plain")).body).toBe("served /plain");
  });

  it("serve's request is the HttpMessage itself, whole after an await, with text() and json()", async () => {
    const answer = await request(servePort, "/request?n=7", {
      method: "POST", body: '{"a":[1,2]}',
      headers: { "Content-Type": "multipart/form-data; boundary=xyz", Authorization: "Basic " + Buffer.from("ann:pw").toString("base64") },
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({
      message: true, http: true, request: true, uri: "/request", query: "n=7", n: "7", boundary: "xyz",
      user: "ann", text: '{"a":[1,2]}', json: { a: [1, 2] },
    });
  });

  it("serve answers 500 to a null response or a bad status, and keeps serving the connection", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const nothing = await request(servePort, "/null", { agent });
    expect(nothing.status).toBe(500);
    expect(nothing.body).toBe("the handler returned no response\n");
    const bad = await request(servePort, "/badstatus", { agent });
    expect(bad.status).toBe(500);
    expect(bad.body).toBe("the handler returned an invalid status\n");
    await fw.waitFor(/^errorHandler \d+ 11 serve: HTTP status 42 is not an integer between 100 and 999$/, 2000);
    for (const [path, status] of [["/fractionstatus", "200.5"], ["/stringstatus", "200"]]) {
      const odd = await request(servePort, path, { agent });
      expect(odd).toMatchObject({ status: 500, body: "the handler returned an invalid status\n" });
      await fw.waitFor(new RegExp(`^errorHandler \\d+ 11 serve: HTTP status ${status.replace(".", "\\.")} is not an integer between 100 and 999$`, "m"), 2000);
    }
    const after = await request(servePort, "/after", { agent });
    expect(after).toMatchObject({ status: 200, body: "served /after", reused: true });
    agent.destroy();
  });

  it("serve passes method, headers and body, and answers JSON with its headers", async () => {
    const answer = await request(servePort, "/echo", { method: "POST", body: "häl", headers: { "Content-Type": "text/x-test" } });
    expect(answer.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(answer.body)).toEqual({ method: "POST", body: "häl", type: "text/x-test" });
  });

  it.each([
    ["serve", "throw", "serve handler threw"],
    ["serve", "reject", "serve handler rejected"],
    ["raw", "throw", "raw handler threw"],
    ["raw", "reject", "raw handler rejected"],
  ])("a %s handler that %ss answers 500 and the errorHandler sees the error", async (which, what, message) => {
    const answer = await request(which === "serve" ? servePort : rawPort, "/" + what);
    expect(answer.status).toBe(500);
    expect(answer.body).toBe("Internal Server Error\n");
    // stdout and the socket are different pipes: the line may come a little later.
    await fw.waitFor(new RegExp(`^errorHandler \\d+ 11 ${message}$`), 2000);
  });

  // Node's parser, like wrk's, refuses a response that has both Transfer-Encoding
  // and Content-Length (RFC 9112 6.3): the chunked reply once sent both.
  it("a chunked reply has no Content-Length, keeps the connection for the next request, and a 'Connection: close' one is closed by its handler after the last chunk", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const first = await request(rawPort, "/chunked", { agent });
    expect({ status: first.status, te: first.headers["transfer-encoding"], length: first.headers["content-length"], body: first.body })
      .toEqual({ status: 200, te: "chunked", length: undefined, body: "one,two,event: three\ndata: 3\n\n" });
    const empty = await request(rawPort, "/chunked-empty", { agent });
    expect({ body: empty.body, length: empty.headers["content-length"], reused: empty.reused }).toEqual({ body: "only", length: undefined, reused: true });
    agent.destroy();
    const closing = await request(rawPort, "/chunked", { headers: { Connection: "close" } });
    expect(closing.body).toBe("one,two,event: three\ndata: 3\n\n");
  });

  it("a reply for a client that went away rejects with 'connection N is closed', and an unawaited one is harmless", async () => {
    const socket = net.connect(rawPort, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write("GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    const line = await fw.waitFor(/^late reply rejected/);
    const id = line.split(" ")[3];
    expect(line).toBe(`late reply rejected ${id} connection ${id} is closed`);
    await fw.waitFor(new RegExp(`^late fire-and-forget ${id}$`));
    // Still serving.
    expect((await request(rawPort, "/after-late")).body).toBe("raw /after-late");
  });

  it("send on a connection after close() rejects with 'connection N is closed'", async () => {
    const socket = net.connect(rawPort, "127.0.0.1");
    socket.write("GET /closed-send HTTP/1.1\r\nHost: x\r\n\r\n");
    socket.on("error", () => undefined);
    const line = await fw.waitFor(/^closed-send /);
    const id = line.split(" ")[2];
    expect(line).toBe(`closed-send rejected ${id} connection ${id} is closed`);
    socket.destroy();
  });

  it("a JS handler busy for 2 s does not stop other connections from being accepted", async () => {
    const busy = request(rawPort, "/busy");
    await fw.waitFor(/^busy-start/);
    const began = Date.now();
    const sockets = await Promise.all(Array.from({ length: 20 }, () => new Promise<{ socket: net.Socket; ms: number }>((resolve, reject) => {
      const t = Date.now();
      const socket = net.connect(servePort, "127.0.0.1", () => resolve({ socket, ms: Date.now() - t }));
      socket.on("error", reject);
    })));
    await new Promise((r) => setTimeout(r, 200));
    // The kernel completes a TCP connect before accept(); an empty accept queue shows
    // the poll task really accepted them while JavaScript was still busy.
    const backlog = acceptQueue(servePort);
    const measuredAt = Date.now() - began;
    expect(fw.stdout()).not.toMatch(/^busy-end/m);
    expect(measuredAt).toBeLessThan(1500);
    expect(backlog).toBe(0);
    expect(Math.max(...sockets.map((s) => s.ms))).toBeLessThan(300);
    // Their requests, sent during the busy period too, are answered after it.
    const answers = await Promise.all(sockets.map(({ socket }, i) => new Promise<string>((resolve) => {
      let text = "";
      socket.on("data", (d) => {
        text += d;
        if (text.includes(`served /accepted${i}`)) resolve(text);
      });
      socket.write(`GET /accepted${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
    })));
    expect((await busy).body).toBe("was busy");
    expect(answers).toHaveLength(20);
    const start = Number(lines(fw, "busy-start")[0].split(" ")[1]);
    const end = Number(lines(fw, "busy-end")[0].split(" ")[1]);
    expect(end - start).toBeGreaterThanOrEqual(2000);
    sockets.forEach(({ socket }) => socket.destroy());
  });

  it("a request with 'Connection: close' is answered, then the server closes; without it the connection stays open", async () => {
    // One raw socket per request; "closed" is whether the server ended it within 1.5 s.
    const ask = (port: number, header: string) => new Promise<{ text: string; closed: boolean }>((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () => socket.write(`GET /bye HTTP/1.1\r\nHost: x\r\n${header}\r\n`));
      let text = "";
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ text, closed: false });
      }, 1500);
      socket.on("data", (d) => (text += d));
      socket.on("end", () => {
        clearTimeout(timer);
        socket.destroy();
        resolve({ text, closed: true });
      });
      socket.on("error", reject);
    });
    for (const [port, body] of [[servePort, "served /bye"], [rawPort, "raw /bye"]] as const) {
      const close = await ask(port, "Connection: close\r\n");
      expect(close.text).toMatch(new RegExp(`^HTTP/1.1 200 OK\r\n[^]*\r\n\r\n${body}$`));
      expect(close.closed).toBe(true);
      const keep = await ask(port, "");
      expect(keep.text).toMatch(new RegExp(`${body}$`));
      expect(keep.closed).toBe(false);
    }
  });

  it("serve answers requests pipelined on one socket in their order: a slow answer, a streamed one, a string, a 500", async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(servePort, "127.0.0.1", () => socket.write(
        ["/sleep", "/first", "/stream", "/null", "/second"].map((uri) => `GET ${uri} HTTP/1.1\r\nHost: x\r\n\r\n`).join("")));
      let got = "";
      socket.on("data", (d) => {
        got += d;
        if (got.endsWith("served /second")) {
          socket.destroy();
          resolve(got);
        }
      });
      socket.on("error", reject);
      setTimeout(() => {
        socket.destroy();
        resolve(got);
      }, 3000);
    });
    const bodies = text.split(/HTTP\/1\.1 \d+ [^\r]*\r\n[^]*?\r\n\r\n/).slice(1);
    expect(bodies).toEqual(["after sleep", "served /first", "4\r\none,\r\n3\r\ntwo\r\n0\r\n\r\n",
      "the handler returned no response\n", "served /second"]);
  });

  it("200 concurrent keep-alive clients each get their own answers", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
    const perClient = 5;
    const clients = Array.from({ length: 200 }, async (_, c) => {
      const got: Answer[] = [];
      for (let r = 0; r < perClient; r++) got.push(await request(servePort, `/id?n=c${c}r${r}`, { agent }));
      return got;
    });
    const results = await Promise.all(clients);
    agent.destroy();
    const conns = new Set<string>();
    let reused = 0;
    results.forEach((got, c) => {
      got.forEach((answer, r) => {
        expect(answer.status).toBe(200);
        expect(answer.body).toBe(`answer for c${c}r${r}`);
        expect(answer.headers["x-id"]).toBe(`c${c}r${r}`);
        if (answer.reused) reused++;
      });
      got.forEach((answer) => conns.add(String(answer.headers["x-conn"])));
    });
    // Kept alive: 1000 requests over at most 200 server connections, and every
    // request that did not open one of them went over a reused socket.
    expect(conns.size).toBeLessThanOrEqual(200);
    expect(reused + conns.size).toBe(200 * perClient);
  });
});
