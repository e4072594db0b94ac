// SPDX-License-Identifier: MIT
// One busy AsyncManager firmware under the sanitizers: built with --variant
// sanitize (AddressSanitizer + UndefinedBehaviorSanitizer, leaks checked at exit)
// and --variant tsan (ThreadSanitizer: the poll task and the XS task share the
// queues and the manager's flags). Real load: 2,000 HTTP requests from 20
// keep-alive clients on am.serve and a raw handler, WebSocket echoes, the firmware
// fetching from itself, wakeups; then close() and a clean exit with nothing on stderr.
import http from "http";
import WebSocket from "ws";
import { buildApp, makeApp, start } from "./helpers/sim";
import { freePort } from "./helpers/net";

function firmware(servePort: number, rawPort: number): string {
  return `
import { AsyncManager, AsyncConnection, HttpMessage, MG_EV_HTTP_MSG, MG_EV_WAKEUP, type EventData } from "mongoose";
const am = new AsyncManager();
await am.start();
let served = 0;
let wakeups = 0;
const raw = await am.listen("http://127.0.0.1:${rawPort}", async (conn: AsyncConnection, ev: number, data: EventData) => {
  if (ev === MG_EV_WAKEUP) wakeups++;
  if (ev !== MG_EV_HTTP_MSG || !(data instanceof HttpMessage)) return;
  if (data.uri === "/ws") {
    await conn.wsUpgrade(data);
    for await (const msg of conn) await conn.wsSend(msg.data, msg.opcode);
    return;
  }
  served++;
  conn.reply(200, "raw " + data.uri + " " + data.body.length);
});
await am.serve("http://127.0.0.1:${servePort}", async (req) => {
  if (req.uri === "/quit") {
    setTimeout(async () => {
      // The firmware fetches from itself a few times before it stops.
      let fetched = 0;
      for (let i = 0; i < 20; i++) if ((await am.fetch("http://127.0.0.1:${rawPort}/self" + i)).status === 200) fetched++;
      await am.close();
      console.log("closed", served, "fetched", fetched, "wakeups", wakeups);
    }, 10);
    return "bye";
  }
  served++;
  if (served % 3 === 0) await am.sleep(1);
  if (served % 50 === 0) am.wakeup(raw.id, "w" + served);
  return { headers: { "X-N": String(served) }, body: req.method === "POST" ? req.text() : "ok " + req.uri };
});
console.log("ready");
`;
}

async function load(servePort: number, rawPort: number): Promise<{ ok: number; wsEchoes: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
  const one = (port: number, path: string, body?: string) =>
    new Promise<boolean>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, path, agent, method: body ? "POST" : "GET" }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve(res.statusCode === 200 && (body ? text === body : text.includes(path))));
      });
      req.on("error", reject);
      req.end(body);
    });
  let ok = 0;
  // 20 clients, 100 requests each: GET and POST on serve, GET on the raw handler.
  await Promise.all(Array.from({ length: 20 }, async (_, c) => {
    for (let r = 0; r < 100; r++) {
      const path = `/c${c}/r${r}`;
      const good = r % 3 === 0 ? await one(rawPort, path)
        : r % 3 === 1 ? await one(servePort, path, `body ${c} ${r} `.repeat(r))
        : await one(servePort, path);
      if (good) ok++;
    }
  }));
  agent.destroy();
  // Two WebSocket clients, 50 echoes each.
  let wsEchoes = 0;
  await Promise.all([0, 1].map(async (w) => {
    const ws = new WebSocket(`ws://127.0.0.1:${rawPort}/ws`);
    await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
    for (let i = 0; i < 50; i++) {
      const echo = new Promise<string>((resolve) => ws.once("message", (d) => resolve(d.toString())));
      ws.send(`ws ${w} ${i}`);
      if ((await echo) === `ws ${w} ${i}`) wsEchoes++;
    }
    ws.close();
  }));
  await new Promise((r) => setTimeout(r, 100));
  const bye = await fetch(`http://127.0.0.1:${servePort}/quit`);
  expect(await bye.text()).toBe("bye");
  return { ok, wsEchoes };
}

async function busyRun(variant: string, env: NodeJS.ProcessEnv = {}) {
  const [servePort, rawPort] = [await freePort(), await freePort()];
  const exe = buildApp(makeApp({
    "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }),
    "main.ts": firmware(servePort, rawPort),
  }), variant);
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const fw = start(exe, [], 170000);
  process.env = saved;
  expect(await fw.firstLine).toBe("ready");
  let counts;
  try {
    counts = await load(servePort, rawPort);
  } catch (error) {
    // The firmware failing under load: its sanitizer report says why.
    process.kill(-fw.child.pid!, "SIGKILL");
    const { code, signal } = await fw.done;
    throw new Error(`${(error as Error).message}; firmware exit ${code ?? signal}, stderr:\n${fw.stderr}`);
  }
  const result = await fw.done;
  return { ...counts, result };
}

describe("AsyncManager under the sanitizers", () => {
  it("a busy firmware built with AddressSanitizer and UBSan serves 2,000 requests and exits 0 without a report", async () => {
    const { ok, wsEchoes, result } = await busyRun("sanitize");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(ok).toBe(2000);
    expect(wsEchoes).toBe(100);
    expect(result.stdout).toMatch(/^closed \d+ fetched 20 wakeups \d+$/m);
  }, 600000);

  it("the same load under ThreadSanitizer reports no data race", async () => {
    const { ok, result } = await busyRun("tsan", { TSAN_OPTIONS: "second_deadlock_stack=1" });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(ok).toBe(2000);
  }, 600000);
});
