// SPDX-License-Identifier: MIT
// The instrumentation module (modules/instrumentation) from the outside: a
// firmware serves its own health as JSON over HTTP, and the test's own HTTP
// client and sockets check that each counter follows what the firmware and the
// test do (objects kept and dropped, timers set and cleared, connections held).
import http from "http";
import net from "net";
import { buildApp, makeApp } from "./helpers/sim";
import { startFirmware, type Running } from "./helpers/net";

const NAMES = ["Network Sockets", "Timers", "System Free Memory", "XS Slot Heap Used", "XS Chunk Heap Used",
  "XS Keys Used", "XS Garbage Collection Count"] as const;
type Health = Record<(typeof NAMES)[number], number>;

const FIRMWARE = String.raw`
import Instrumentation from "instrumentation";
import { Manager, Connection, HttpMessage, MG_EV_HTTP_MSG } from "mongoose";

const NAMES = ${JSON.stringify(NAMES)};
const INDEX = NAMES.map((n) => Instrumentation.map(n)!);

function health(): Record<string, number | undefined> {
  const h: Record<string, number | undefined> = {};
  NAMES.forEach((n, i) => (h[n] = Instrumentation.get(INDEX[i])));
  return h;
}

let kept: Array<{ i: number; s: string }> = [];
let timers: ReturnType<typeof setTimeout>[] = [];

function route(mgr: Manager, conn: Connection, msg: HttpMessage): void {
  switch (msg.uri) {
    case "/health": conn.replyJson(health()); return;
    case "/ping": conn.reply(200, "pong"); return;
    case "/keep":
      for (let i = 0; i < 20000; i++) kept.push({ i, s: "k" + i });
      conn.replyJson(health());
      return;
    case "/drop": {
      // Dropped, then garbage made until a collection runs: the heap is read just
      // after it, before what the loop allocates next can fill it again.
      kept = [];
      const gc = INDEX[NAMES.indexOf("XS Garbage Collection Count")];
      const before = Instrumentation.get(gc)!;
      let junk: object = {};
      for (let i = 0; i < 10_000_000 && Instrumentation.get(gc) === before; i++) junk = { i };
      conn.replyJson({ junk: typeof junk, ...health() });
      return;
    }
    case "/timers/set":
      for (let i = 0; i < 3; i++) timers.push(setTimeout(() => {}, 600000));
      conn.replyJson(health());
      return;
    case "/timers/short":
      setTimeout(() => {}, 1);
      conn.replyJson(health());
      return;
    case "/timers/throw": {
      // Each throws while reading its arguments: no timer may be left behind.
      const symbol = Symbol("delay") as unknown as number;
      const thrown: string[] = [];
      for (const attempt of [() => setTimeout(() => {}, symbol), () => (setInterval as (...args: unknown[]) => unknown)(() => {}, symbol, "extra"),
        () => setTimeout(() => {}, { valueOf() { throw new Error("no delay"); } } as unknown as number)])
        try { attempt(); } catch (e) { thrown.push((e as Error).name); }
      conn.replyJson({ thrown, ...health() });
      return;
    }
    case "/timers/clear":
      timers.forEach((t) => clearTimeout(t));
      timers = [];
      conn.replyJson(health());
      return;
    case "/unknown":
      conn.replyJson({ map: Instrumentation.map("No Such Counter") ?? "undefined",
        get0: Instrumentation.get(0) ?? "undefined", getPast: Instrumentation.get(NAMES.length + 1) ?? "undefined",
        getUndefined: Instrumentation.get(Instrumentation.map("No Such Counter")!) ?? "undefined",
        name0: Instrumentation.name(0) ?? "undefined", names: INDEX.map((i) => Instrumentation.name(i)) });
      return;
    case "/quit":
      conn.reply(200, "bye");
      mgr.timerAdd(50, () => mgr.close());
      return;
  }
  conn.reply(404, "no route for " + msg.uri);
}

const mgr: Manager = new Manager((conn, ev, data) => {
  if (ev === MG_EV_HTTP_MSG && data instanceof HttpMessage) route(mgr, conn, data);
});
console.log("ready " + mgr.listen("http://127.0.0.1:0").localAddr!.port);
await mgr.run(10);
`;

let fw: Running;
let port = 0;
// One kept-alive probe connection: the firmware's socket count is the same at every probe.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function text(uri: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: uri, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${uri}: ${res.statusCode} ${body}`))));
    });
    req.setTimeout(10000, () => req.destroy(new Error(`${uri}: no answer in 10 s`)));
    req.on("error", reject);
  });
}

async function get<T = Health>(uri: string): Promise<T> {
  return JSON.parse(await text(uri)) as T;
}

// A raw connection that has been answered once: the firmware has accepted it.
function held(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => s.write("GET /ping HTTP/1.1\r\nHost: fw\r\n\r\n"));
    s.once("data", () => resolve(s));
    s.on("error", reject);
  });
}

async function until(what: string, ok: (h: Health) => boolean, timeoutMs = 3000): Promise<Health> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const h = await get("/health");
    if (ok(h)) return h;
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(h)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  const dir = makeApp({ "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }), "main.ts": FIRMWARE });
  fw = startFirmware(buildApp(dir));
  port = Number((await fw.waitFor(/^ready \d+$/)).split(" ")[1]);
}, 120_000);

afterAll(async () => {
  const bye = await text("/quit").catch((e: Error) => e.message);
  agent.destroy();
  expect(bye).toBe("bye");
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([fw.exited, new Promise<number>((r) => (timer = setTimeout(() => r(-1), 3000)))]);
  clearTimeout(timer);
  if (code !== 0) await fw.stop();
  expect({ code, stderr: fw.stderr() }).toEqual({ code: 0, stderr: "" });
});

describe("instrumentation", () => {
  test("every counter is a number, System Free Memory is positive, and names map back", async () => {
    const h = await get("/health");
    for (const n of NAMES) expect([n, typeof h[n], Number.isInteger(h[n]) && h[n] >= 0]).toEqual([n, "number", true]);
    expect(h["System Free Memory"]).toBeGreaterThan(0);
    expect(h["XS Slot Heap Used"]).toBeGreaterThan(0);
    expect(h["XS Chunk Heap Used"]).toBeGreaterThan(0);
    const u = await get<Record<string, unknown>>("/unknown");
    expect(u).toEqual({ map: "undefined", get0: "undefined", getPast: "undefined", getUndefined: "undefined", name0: "undefined", names: NAMES });
  });

  test("XS Slot Heap Used grows with kept objects and falls after they are dropped and a collection runs", async () => {
    const before = await get("/health");
    const kept = await get("/keep");
    // 20,000 objects of two properties: at least 3 slots of at least 16 bytes each.
    expect(kept["XS Slot Heap Used"] - before["XS Slot Heap Used"]).toBeGreaterThan(20000 * 3 * 16);
    const dropped = await get<Health & { junk: string }>("/drop");
    expect(dropped["XS Garbage Collection Count"]).toBeGreaterThan(kept["XS Garbage Collection Count"]);
    expect(dropped["XS Slot Heap Used"]).toBeLessThan(kept["XS Slot Heap Used"] - 20000 * 3 * 16);
  });

  test("Timers counts setTimeout's timers until clearTimeout, or until a one-shot has fired", async () => {
    const base = (await get("/health")).Timers;
    expect((await get("/timers/set")).Timers).toBe(base + 3);
    expect((await get("/timers/clear")).Timers).toBe(base);
    const threw = await get("/timers/throw") as Health & { thrown: string[] };
    expect(threw.thrown).toEqual(["TypeError", "TypeError", "Error"]);
    expect(threw.Timers).toBe(base);
    expect((await get("/timers/short")).Timers).toBe(base + 1);
    await until("the fired one-shot gone", (h) => h.Timers === base);
  });

  test("Network Sockets rises with each connection the test holds open and falls when they close", async () => {
    const base = (await get("/health"))["Network Sockets"];
    expect(base).toBeGreaterThanOrEqual(2);  // the listener and the probe's connection, at least
    const sockets = await Promise.all([held(), held(), held(), held()]);
    expect((await get("/health"))["Network Sockets"]).toBe(base + 4);
    sockets.forEach((s) => s.destroy());
    await until("sockets back to the base after the close", (h) => h["Network Sockets"] === base);
  });
});
