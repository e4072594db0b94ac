// SPDX-License-Identifier: MIT
// AsyncManager as a client and over raw connections, against real Node peers:
// fetch (status, headers, text/json/arrayBuffer, POST, timeout, abort) from a
// Node http server, connect to a closed port, a WebSocket client iterating over
// what a `ws` server sends, a WebSocket server (listen + wsUpgrade) for a `ws`
// client, send() back-pressure against a client that stops reading, and 10,000
// wakeups delivered in order (plus what happens when the command queue fills).
import http from "http";
import net from "net";
import WebSocket, { WebSocketServer } from "ws";
import { buildApp, makeApp } from "./helpers/sim";
import { freePort, sanitizerReports, startFirmware, type Running, listenFresh } from "./helpers/net";


interface Ports {
  http: number;   // the test's Node http server
  ws: number;     // the test's ws server
  closed: number; // nobody listens
  wsListen: number; // the firmware's WebSocket server
  raw: number;    // the firmware's raw TCP listener (send back-pressure)
}

// Linux lets a loopback socket pair buffer a few MB (tcp_wmem's 4 MB send buffer
// plus the reader's receive buffer): 1 MB would be "written" at once. 16 MB is not.
const BIG = 16 << 20;

function firmware(p: Ports): string {
  return `
import {
  AsyncManager, AbortController, AsyncConnection, HttpMessage, WsMessage,
  MG_EV_HTTP_MSG, MG_EV_READ, MG_EV_WAKEUP, WEBSOCKET_OP_BINARY, type EventData,
} from "mongoose";
const am = new AsyncManager();
await am.start();
const base = "http://127.0.0.1:${p.http}";

async function report(name: string, fn: () => Promise<unknown>): Promise<void> {
  const began = Date.now();
  try {
    const value = await fn();
    console.log(name, "ok", Date.now() - began, JSON.stringify(value));
  } catch (error) {
    console.log(name, "error", Date.now() - began, (error as Error).message);
  }
}

// The firmware's servers first, so the test can use them whenever it likes.
await am.listen("http://127.0.0.1:${p.wsListen}", async (conn: AsyncConnection, ev: number, data: EventData) => {
  if (ev !== MG_EV_HTTP_MSG || !(data instanceof HttpMessage)) return;
  if (data.uri !== "/ws") {
    conn.reply(404, "not here");
    return;
  }
  await conn.wsUpgrade(data, { "X-Upgraded-By": "firmware" });
  for await (const msg of conn) {
    if (msg.text === "close me") await conn.close(4001, "as you wish");
    else await conn.wsSend("echo " + msg.text);
  }
  console.log("ws-server-end", conn.id, conn.isClosed);
});

await am.listen("tcp://127.0.0.1:${p.raw}", (conn: AsyncConnection, ev: number) => {
  if (ev !== MG_EV_READ || !conn.recv().length) return;
  const big = new Uint8Array(${BIG}).fill(120);
  console.log("big-send-start", Date.now());
  conn.send(big).then(() => console.log("big-send-resolved", Date.now()), (e) => console.log("big-send-rejected", e.message));
});

await report("fetch-get", async () => {
  const r = await am.fetch(base + "/json?x=1", { headers: { "X-Req": "abc" } });
  return { status: r.status, ok: r.ok, type: r.header("content-type"), custom: r.header("x-custom"), json: await r.json(), text: await r.text() };
});
await report("fetch-binary", async () => {
  const r = await am.fetch(base + "/binary");
  const bytes = new Uint8Array(await r.arrayBuffer());
  let sum = 0;
  for (const b of bytes) sum += b;
  return { status: r.status, length: bytes.length, first: bytes[0], last: bytes[bytes.length - 1], sum };
});
await report("fetch-post", async () => {
  const r = await am.fetch(base + "/echo", { method: "POST", body: "payload ü", headers: { "Content-Type": "text/x-firmware" } });
  return { status: r.status, json: await r.json() };
});
await report("fetch-404", async () => {
  const r = await am.fetch(base + "/missing");
  return { status: r.status, ok: r.ok, text: await r.text() };
});
await report("fetch-timeout", () => am.fetch(base + "/never", { timeout: 300 }));
await report("fetch-abort", () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("stopped by the firmware")), 100);
  return am.fetch(base + "/never", { signal: controller.signal });
});
await report("sleep-abort", () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  return am.sleep(10000, controller.signal);
});
await report("connect-closed", () => am.connect("tcp://127.0.0.1:${p.closed}"));
await report("connect-open", async () => {
  const conn = await am.connect("tcp://127.0.0.1:${p.http}");
  const info = { client: conn.isClient, port: conn.remoteAddr?.port };
  await conn.close();
  return { ...info, closed: conn.isClosed };
});

await report("ws-client", async () => {
  const conn = await am.wsConnect("ws://127.0.0.1:${p.ws}/feed");
  await conn.wsSend("hello from firmware");
  const got: string[] = [];
  for await (const msg of conn) got.push(msg.opcode === WEBSOCKET_OP_BINARY ? "binary " + msg.data.length : msg.text);
  return { got, closed: conn.isClosed };
});

// Wakeups on a live connection: a listener of our own.
const received: string[] = [];
const target = await am.listen("tcp://127.0.0.1:0", (c: AsyncConnection, ev: number, data: EventData) => {
  if (ev === MG_EV_WAKEUP && data instanceof Uint8Array) received.push(String.fromCharCode(...data));
});
async function until(count: number): Promise<void> {
  for (let i = 0; i < 500 && received.length < count; i++) await am.sleep(10);
}
function inOrder(): boolean {
  return received.every((text, i) => text === String(i));
}
await report("wakeup-burst", async () => {
  received.length = 0;
  // Every 500 calls, wait (1 ms sleeps) until no more than 500 are outstanding, so
  // the 1024-entry command queue cannot fill. A bare sleep would not do: the poll
  // task posts a batch per iteration, and while this loop runs the XS task reads
  // none, so with 64 batches queued the poll task stops taking commands too.
  let waits = 0;
  for (let i = 0; i < 10000; i++) {
    am.wakeup(target.id, String(i));
    if (i % 500 === 499) while (received.length < i + 1 - 500) {
      await am.sleep(1);
      waits++;
    }
  }
  await until(10000);
  return { received: received.length, inOrder: inOrder(), pacedBySleeps: waits > 0 || "none needed" };
});
await report("wakeup-queue-full", async () => {
  received.length = 0;
  am._stall(500);  // the poll task stops taking commands for 0.5 s
  await am.sleep(50);
  let accepted = 0;
  let error = "";
  for (let i = 0; i < 2000; i++) {
    try {
      am.wakeup(target.id, String(i));
      accepted++;
    } catch (e) {
      error = (e as Error).message;
      break;
    }
  }
  await until(accepted);
  await am.sleep(100);  // nothing more arrives
  return { accepted, error, received: received.length, inOrder: inOrder() };
});
console.log("client-done");
`;
}

function reportOf(fw: Running, name: string): { status: string; ms: number; value: string } {
  const line = fw.stdout().split("\n").find((l) => l.startsWith(name + " "));
  if (!line) throw new Error(`no ${name} line in:\n${fw.stdout()}\n${fw.stderr()}`);
  const [, status, ms, ...rest] = line.split(" ");
  return { status, ms: Number(ms), value: rest.join(" ") };
}
const okValue = (fw: Running, name: string): unknown => {
  const r = reportOf(fw, name);
  if (r.status !== "ok") throw new Error(`${name} failed: ${r.value}`);
  return JSON.parse(r.value);
};

describe("AsyncManager client and connections", () => {
  let fw: Running;
  let ports: Ports;
  let server: http.Server;
  let wss: WebSocketServer;
  let wsServer: http.Server;
  const neverClosed: number[] = [];
  const wsSeen: string[] = [];

  beforeAll(async () => {
    ports = { http: 0, ws: 0, closed: await freePort(), wsListen: await freePort(), raw: await freePort() };
    server = http.createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        if (req.url === "/json?x=1") {
          res.writeHead(200, { "Content-Type": "application/json", "X-Custom": "custom " + req.headers["x-req"] });
          res.end(JSON.stringify({ a: 1, b: ["two"] }));
        } else if (req.url === "/binary") {
          res.end(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
        } else if (req.url === "/echo") {
          res.setHeader("Content-Type", "application/json");
          res.end(JSON.stringify({ method: req.method, body, type: req.headers["content-type"], length: req.headers["content-length"] }));
        } else if (req.url === "/never") {
          const began = Date.now();
          req.socket.on("close", () => neverClosed.push(Date.now() - began));  // the firmware gave up
        } else {
          res.writeHead(404);
          res.end("no such thing");
        }
      });
    });
    await listenFresh(server);
    ports.http = (server.address() as net.AddressInfo).port;
    wsServer = http.createServer();
    wss = new WebSocketServer({ server: wsServer });
    ports.ws = await listenFresh(wsServer);
    wss.on("connection", (ws, req) => {
      wsSeen.push("path " + req.url);
      ws.on("message", (data) => {
        wsSeen.push("message " + data.toString());
        ws.send("one");
        ws.send("two");
        ws.send(Buffer.alloc(300, 7));
        ws.send("three");
        setTimeout(() => ws.close(4000, "server done"), 50);
      });
    });
    const exe = buildApp(makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }),
      "main.ts": firmware(ports),
    }));
    fw = startFirmware(exe);
    await fw.waitFor(/^client-done$/, 30000);
    if (process.env.XSMG_DUMP) console.log(fw.stdout(), fw.stderr());
  }, 60000);

  afterAll(async () => {
    const code = await fw?.stop();
    server?.close();
    wss?.close();
    wsServer?.close();
    // SIGTERM stops the XS task with the poll task running: a clean 143, no report.
    expect(sanitizerReports(fw.stderr())).toEqual([]);
    expect(code).toBe(143);
  });

  afterEach(() => {
    // mongoose logs the refused connect itself; nothing else may appear.
    const unexpected = fw.stderr().split("\n").filter((l) => l && !/mongoose\.c:\d+:mg_error +\d+ \d+ socket error\s*$/.test(l));
    expect(unexpected).toEqual([]);
  });

  it("fetch: status, headers, text() and json()", () => {
    expect(okValue(fw, "fetch-get")).toEqual({
      status: 200, ok: true, type: "application/json", custom: "custom abc",
      json: { a: 1, b: ["two"] }, text: JSON.stringify({ a: 1, b: ["two"] }),
    });
  });

  it("fetch: arrayBuffer() of a binary body", () => {
    expect(okValue(fw, "fetch-binary")).toEqual({ status: 200, length: 256, first: 0, last: 255, sum: 255 * 128 });
  });

  it("fetch: POST with a body and headers", () => {
    expect(okValue(fw, "fetch-post")).toEqual({
      status: 200, json: { method: "POST", body: "payload ü", type: "text/x-firmware", length: String(Buffer.byteLength("payload ü")) },
    });
  });

  it("fetch: a 404 resolves with its status", () => {
    expect(okValue(fw, "fetch-404")).toEqual({ status: 404, ok: false, text: "no such thing" });
  });

  it("fetch: a server that never answers rejects with 'timed out', and the connection is closed", async () => {
    const r = reportOf(fw, "fetch-timeout");
    expect(r.status).toBe("error");
    expect(r.value).toBe(`fetch http://127.0.0.1:${ports.http}/never: timed out after 300 ms`);
    expect(r.ms).toBeGreaterThanOrEqual(295);
    expect(r.ms).toBeLessThan(1500);
    expect(neverClosed.length).toBe(2);  // this one and the aborted one
  });

  it("fetch: an abort rejects with the abort reason", () => {
    const r = reportOf(fw, "fetch-abort");
    expect(r.status).toBe("error");
    expect(r.value).toBe("stopped by the firmware");
    expect(r.ms).toBeGreaterThanOrEqual(95);
    expect(r.ms).toBeLessThan(1000);
  });

  it("sleep: an abort rejects early", () => {
    const r = reportOf(fw, "sleep-abort");
    expect(r.status).toBe("error");
    expect(r.value).toBe("aborted");
    expect(r.ms).toBeLessThan(1000);
  });

  it("connect to a closed port rejects; to an open one resolves", () => {
    const r = reportOf(fw, "connect-closed");
    expect(r.status).toBe("error");
    expect(r.value).toBe(`connect tcp://127.0.0.1:${ports.closed}: Connection refused (socket error)`);
    expect(okValue(fw, "connect-open")).toEqual({ client: true, port: ports.http, closed: true });
  });

  it("a WebSocket client is an async iterable of the server's messages, ending when the server closes", () => {
    expect(wsSeen).toEqual(["path /feed", "message hello from firmware"]);
    expect(okValue(fw, "ws-client")).toEqual({ got: ["one", "two", "binary 300", "three"], closed: true });
  });

  it("a WebSocket server (listen + wsUpgrade) iterates a client's messages and closes with a code", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${ports.wsListen}/ws`);
    const upgraded = new Promise<string | undefined>((resolve) => ws.once("upgrade", (res) => resolve(res.headers["x-upgraded-by"] as string)));
    await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
    const got: string[] = [];
    ws.on("message", (data) => got.push(data.toString()));
    ws.send("a");
    ws.send("b");
    ws.send("c");
    while (got.length < 3) await new Promise((r) => setTimeout(r, 10));
    const closed = new Promise<[number, string]>((resolve) => ws.once("close", (code, reason) => resolve([code, reason.toString()])));
    ws.send("close me");
    expect(await closed).toEqual([4001, "as you wish"]);
    expect(got).toEqual(["echo a", "echo b", "echo c"]);
    expect(await upgraded).toBe("firmware");
    await fw.waitFor(/^ws-server-end \d+ true$/);
  });

  it("send() resolves only once the data was written: a client that stops reading holds it back", async () => {
    const socket = net.connect(ports.raw, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.pause();
    socket.write("go");
    await fw.waitFor(/^big-send-start/);
    await new Promise((r) => setTimeout(r, 1000));
    expect(fw.stdout()).not.toMatch(/^big-send-resolved/m);
    const resumedAt = Date.now();
    let got = 0;
    socket.on("data", (d) => (got += d.length));
    socket.resume();
    const line = await fw.waitFor(/^big-send-resolved/);
    expect(Number(line.split(" ")[1])).toBeGreaterThanOrEqual(resumedAt - 5);  // both use the host clock
    while (got < BIG) await new Promise((r) => setTimeout(r, 10));
    expect(got).toBe(BIG);
    socket.destroy();
  });

  it("10,000 wakeups in a burst are all delivered, in order", () => {
    expect(okValue(fw, "wakeup-burst")).toMatchObject({ received: 10000, inOrder: true });
  });

  it("when the command queue is full, wakeup() throws and nothing queued is lost", () => {
    const r = okValue(fw, "wakeup-queue-full") as { accepted: number; error: string; received: number; inOrder: boolean };
    expect(r.accepted).toBe(1024);
    expect(r.error).toMatch(/the AsyncManager's command queue is full \(1024 commands\): the poll task is not keeping up$/);
    expect(r.received).toBe(1024);
    expect(r.inOrder).toBe(true);
  });
});
