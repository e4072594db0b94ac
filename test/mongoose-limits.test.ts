// SPDX-License-Identifier: MIT
// A listener's limits (issue 18) on both managers, with real clients (node net
// sockets, curl, the ws package): a silent connection and a kept-alive one
// closed after idleTimeout, half a request line answered 408 after
// headersTimeout, a pinging WebSocket kept open past idleTimeout, and over
// maxConnections a 503 (HTTP) or a close (raw) while the connections already
// open are served, with new ones taken again once some close; a flood of silent
// connections refused past the cap and idled out below it.
import { execFile } from "child_process";
import net from "net";
import WebSocket from "ws";
import { buildApp, makeApp } from "./helpers/sim";
import { freePort, sanitizerReports, startFirmware, type Running } from "./helpers/net";

interface Ports {
  timeouts: number;  // HTTP: headersTimeout 300, idleTimeout 800
  cap: number;       // HTTP: maxConnections 2
  raw: number;       // raw echo: idleTimeout 300, maxConnections 2
  flood: number;     // HTTP: idleTimeout 500, maxConnections 20
}

function firmware(sync: Ports, async: Ports): string {
  return `
import { Manager, AsyncManager, HttpMessage, MG_EV_HTTP_MSG, MG_EV_READ, MG_EV_WS_MSG, WsMessage } from "mongoose";

const mgr = new Manager((conn, ev, data) => {
  if (ev === MG_EV_HTTP_MSG && data instanceof HttpMessage) {
    if (data.uri === "/ws") conn.wsUpgrade(data);
    else conn.reply(200, "sync " + data.uri);
  } else if (ev === MG_EV_WS_MSG && data instanceof WsMessage) {
    conn.wsSend(data.data, data.opcode);
  }
});
mgr.listen("http://127.0.0.1:${sync.timeouts}", undefined, { headersTimeout: 300, idleTimeout: 800 });
mgr.listen("http://127.0.0.1:${sync.cap}", undefined, { maxConnections: 2 });
mgr.listen("http://127.0.0.1:${sync.flood}", undefined, { idleTimeout: 500, maxConnections: 20 });
mgr.listen("tcp://127.0.0.1:${sync.raw}", (conn, ev) => {
  if (ev === MG_EV_READ) conn.send(conn.recv());
}, { idleTimeout: 300, maxConnections: 2 });
for (const bad of [-1, Number.NaN]) {
  try {
    mgr.listen("http://127.0.0.1:0", undefined, { idleTimeout: bad });
    console.log("bad option taken", bad);
  } catch (error) {
    console.log("bad option", (error as Error).name, (error as Error).message);
  }
}
mgr.run();

const am = new AsyncManager();
await am.start();
await am.serve("http://127.0.0.1:${async.timeouts}", async (req, conn) => {
  if (req.uri !== "/ws") return "async " + req.uri;
  await conn.wsUpgrade(req.message);
  for await (const msg of conn) await conn.wsSend(msg.data, msg.opcode);
}, { headersTimeout: 300, idleTimeout: 800 });
await am.serve("http://127.0.0.1:${async.cap}", (req) => "async " + req.uri, { maxConnections: 2 });
await am.serve("http://127.0.0.1:${async.flood}", (req) => "async " + req.uri, { idleTimeout: 500, maxConnections: 20 });
await am.listen("tcp://127.0.0.1:${async.raw}", (conn, ev, data) => {
  if (ev === MG_EV_READ && data instanceof Uint8Array) conn.send(data).catch(() => undefined);
}, { idleTimeout: 300, maxConnections: 2 });
console.log("ready");
`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Ending {
  data: string;
  ms: number;  // from the last byte written (or the connect) to the close
}

// Connects, writes what is given, and waits for the server to close.
function untilClosed(port: number, write = "", timeoutMs = 6000): Promise<Ending> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let data = "";
    let from = Date.now();
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`port ${port}: still open after ${timeoutMs} ms, got ${JSON.stringify(data)}`));
    }, timeoutMs);
    s.on("connect", () => {
      if (write) s.write(write, () => (from = Date.now()));
      else from = Date.now();
    });
    s.setEncoding("latin1");
    s.on("data", (d) => (data += d));
    s.on("error", () => undefined);  // a reset ends it too
    s.on("close", () => {
      clearTimeout(timer);
      resolve({ data, ms: Date.now() - from });
    });
  });
}

// An open socket and a way to await what it reads next.
interface Held {
  socket: net.Socket;
  read(until: RegExp, timeoutMs?: number): Promise<string>;
  closed: Promise<void>;
}

function hold(port: number): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.setEncoding("latin1");
    let buffer = "";
    const waiters: Array<() => void> = [];
    socket.on("data", (d) => {
      buffer += d;
      waiters.splice(0).forEach((w) => w());
    });
    socket.on("error", () => undefined);
    const closed = new Promise<void>((done) => socket.on("close", () => {
      waiters.splice(0).forEach((w) => w());
      done();
    }));
    const read = (until: RegExp, timeoutMs = 3000) => new Promise<string>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`port ${port}: no ${until} in ${JSON.stringify(buffer)}`)), timeoutMs);
      const check = () => {
        if (until.test(buffer)) {
          clearTimeout(timer);
          const got = buffer;
          buffer = "";
          done(got);
        } else if (socket.destroyed) {
          clearTimeout(timer);
          fail(new Error(`port ${port}: closed before ${until}, got ${JSON.stringify(buffer)}`));
        } else waiters.push(check);
      };
      check();
    });
    socket.on("connect", () => resolve({ socket, read, closed }));
    socket.on("error", reject);
  });
}

function curl(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["-s", "-i", "--max-time", "5", `http://127.0.0.1:${port}${path}`], (error, stdout) => {
      if (error && !stdout) reject(error);
      else resolve(stdout);
    });
  });
}

// Tries until the answer matches (the server sees a close at its next poll round).
async function curlUntil(port: number, path: string, want: RegExp): Promise<string> {
  let last = "";
  for (let i = 0; i < 30 && !want.test(last); i++) {
    if (i) await sleep(100);
    last = await curl(port, path);
  }
  return last;
}

describe("listener limits", () => {
  let fw: Running;
  const ports: Record<"sync" | "async", Ports> = {
    sync: { timeouts: 0, cap: 0, raw: 0, flood: 0 },
    async: { timeouts: 0, cap: 0, raw: 0, flood: 0 },
  };

  beforeAll(async () => {
    for (const p of [ports.sync, ports.async]) {
      p.timeouts = await freePort();
      p.cap = await freePort();
      p.raw = await freePort();
      p.flood = await freePort();
    }
    const exe = buildApp(makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }),
      "main.ts": firmware(ports.sync, ports.async),
    }));
    fw = startFirmware(exe);
    await fw.waitFor(/^ready$/);
  });

  afterAll(async () => {
    const code = await fw?.stop();
    expect(sanitizerReports(fw.stderr())).toEqual([]);
    expect(code).toBe(143);
  });

  it("a negative or NaN limit throws a RangeError naming the option", () => {
    const bad = fw.stdout().split("\n").filter((l) => l.startsWith("bad option"));
    expect(bad).toEqual([
      "bad option RangeError managerOpen: idleTimeout must be a number >= 0 (0 or Infinity: no limit), not -1",
      "bad option RangeError managerOpen: idleTimeout must be a number >= 0 (0 or Infinity: no limit), not nan",
    ]);
  });

  describe.each([["Manager", "sync"], ["AsyncManager", "async"]] as const)("%s", (_name, which) => {
    const p = () => ports[which];

    it("closes a connection that sends nothing after idleTimeout, with no answer", async () => {
      const end = await untilClosed(p().timeouts);
      expect(end.data).toBe("");
      expect(end.ms).toBeGreaterThanOrEqual(750);
      expect(end.ms).toBeLessThan(2500);
    });

    it("answers half a request line with 408 after headersTimeout, and closes", async () => {
      const end = await untilClosed(p().timeouts, "GET /half HT");
      expect(end.data).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(end.data).toMatch(/\r\nConnection: close\r\n/);
      expect(end.ms).toBeGreaterThanOrEqual(280);
      expect(end.ms).toBeLessThan(2000);
    });

    it("a request head trickling in past headersTimeout gets the 408 though bytes keep coming", async () => {
      const held = await hold(p().timeouts);
      const start = Date.now();
      for (const piece of ["GET ", "/slow ", "HTTP/1.1\r\n", "Host: x\r\n", "X-A: 1\r\n", "X-B: 2\r\n"]) {
        if (held.socket.destroyed) break;
        held.socket.write(piece);
        await sleep(100);
      }
      const got = await held.read(/408 Request Timeout/);
      await held.closed;
      expect(got).toMatch(/^HTTP\/1\.1 408 /);
      expect(Date.now() - start).toBeGreaterThanOrEqual(280);
    });

    it("closes a kept-alive HTTP connection after idleTimeout without a request", async () => {
      const held = await hold(p().timeouts);
      held.socket.write("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
      expect(await held.read(/\r\n\r\n(sync|async) \/first$/)).toMatch(/^HTTP\/1\.1 200 /);
      const answered = Date.now();
      await held.closed;
      const quiet = Date.now() - answered;
      expect(quiet).toBeGreaterThanOrEqual(750);
      expect(quiet).toBeLessThan(2500);
    });

    it("keeps a WebSocket that is pinged open past idleTimeout, and closes it once the pings stop", async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${p().timeouts}/ws`);
      await new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
      });
      let closedAt = 0;
      const closed = new Promise<void>((resolve) => ws.once("close", () => {
        closedAt = Date.now();
        resolve();
      }));
      let pongs = 0;
      ws.on("pong", () => pongs++);
      for (let i = 0; i < 10; i++) {  // 2 s of pings, every 200 ms: 2.5 times idleTimeout
        ws.ping();
        await sleep(200);
      }
      expect(ws.readyState).toBe(WebSocket.OPEN);
      expect(pongs).toBeGreaterThanOrEqual(8);
      const echoed = new Promise<string>((resolve) => ws.once("message", (d) => resolve(String(d))));
      ws.send("still here");
      expect(await echoed).toBe("still here");
      const quietFrom = Date.now();
      await closed;
      expect(closedAt - quietFrom).toBeGreaterThanOrEqual(750);
      expect(closedAt - quietFrom).toBeLessThan(2500);
    });

    it("over maxConnections answers 503 with Connection: close, serves the open ones, and takes new ones once some close", async () => {
      const held = [await hold(p().cap), await hold(p().cap)];
      held[0].socket.write("GET /before HTTP/1.1\r\nHost: x\r\n\r\n");
      await held[0].read(/\/before$/);  // both are accepted: the first has been answered, the second is older
      const refused = await curl(p().cap, "/refused");
      expect(refused).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
      expect(refused).toMatch(/\r\nConnection: close\r\n/i);
      held[1].socket.write("GET /still HTTP/1.1\r\nHost: x\r\n\r\n");
      expect(await held[1].read(/\/still$/)).toMatch(/^HTTP\/1\.1 200 /);
      held[0].socket.destroy();
      const after = await curlUntil(p().cap, "/after", /^HTTP\/1\.1 200 /);
      expect(after).toMatch(/^HTTP\/1\.1 200 [^]*(sync|async) \/after$/);
      held[1].socket.destroy();
    });

    it("a raw listener over maxConnections closes the new connection at once, and takes new ones once some close", async () => {
      const held = [await hold(p().raw), await hold(p().raw)];
      held[0].socket.write("one");
      await held[0].read(/^one$/);
      held[1].socket.write("two");
      await held[1].read(/^two$/);
      const refused = await untilClosed(p().raw, "three");
      expect(refused.data).toBe("");
      expect(refused.ms).toBeLessThan(250);  // well before idleTimeout
      held[0].socket.write("again");
      expect(await held[0].read(/^again$/)).toBe("again");
      held[1].socket.destroy();
      let echoed = "";
      for (let i = 0; i < 30 && echoed !== "four"; i++) {
        if (i) await sleep(100);
        const end = await untilClosed(p().raw, "four");  // echoed, then closed after idleTimeout
        echoed = end.data;
      }
      expect(echoed).toBe("four");
      held[0].socket.destroy();
    });

    it("a flood of silent connections: those past the cap refused at once, the rest idled out, then it serves again", async () => {
      const flood = await Promise.all(Array.from({ length: 60 }, () => untilClosed(p().flood, "", 8000)));
      const refused = flood.filter((e) => e.data.startsWith("HTTP/1.1 503 "));
      const idled = flood.filter((e) => e.data === "");
      expect(refused.length).toBe(40);
      expect(idled.length).toBe(20);
      for (const e of refused) expect(e.ms).toBeLessThan(1500);  // the linger for a request that never comes
      for (const e of idled) expect(e.ms).toBeGreaterThanOrEqual(450);
      expect(await curl(p().flood, "/back")).toMatch(/^HTTP\/1\.1 200 [^]*(sync|async) \/back$/);
    });

    it("closes a raw connection quiet for idleTimeout", async () => {
      const end = await untilClosed(p().raw, "hello");
      expect(end.data).toBe("hello");
      expect(end.ms).toBeGreaterThanOrEqual(250);
      expect(end.ms).toBeLessThan(2000);
    });
  });
});
