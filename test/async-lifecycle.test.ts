// SPDX-License-Identifier: MIT
// AsyncManager lifecycle: start and close with and without listeners, a long
// pollInterval, the "not started" errors, AsyncManager.run, a poll task stalled
// past shutdownTimeout (warnings every 5 s, then abandon) and shutdown while the
// XS task's event queue is full. Each firmware prints Date.now() deltas, so the
// timings are the firmware's own; clients are real Node sockets.
import fs from "fs";
import http from "http";
import net from "net";
import { buildApp, makeApp, start, type RunResult } from "./helpers/sim";
import { freePort, acceptQueue, listenFresh } from "./helpers/net";


function build(source: string): string {
  return buildApp(makeApp({ "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }), "main.ts": source }));
}

/** Runs a firmware to its end; also returns the wall time in ms. */
async function run(exe: string, timeoutMs = 30000): Promise<RunResult & { ms: number }> {
  const began = Date.now();
  const result = await start(exe, [], timeoutMs).done;
  return { ...result, ms: Date.now() - began };
}

/** The number after `label` on the line starting with it ("closed 12" -> 12). */
function figure(stdout: string, label: string): number {
  const line = stdout.split("\n").find((l) => l.startsWith(label + " "));
  if (line === undefined) throw new Error(`no "${label}" line in:\n${stdout}`);
  return Number(line.slice(label.length + 1).split(" ")[0]);
}


describe("AsyncManager start and close", () => {
  let result: RunResult & { ms: number };
  beforeAll(async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const exe = build(`
import { AsyncManager } from "mongoose";
const t0 = Date.now();
const at = () => Date.now() - t0;

// 1. No listener at all.
{
  const am = new AsyncManager();
  console.log("bare-new", am.running);
  await am.start();
  console.log("bare-started", am.running);
  await am.close();
  console.log("bare-closed", am.running);
  await am.close();  // a second close is a no-op
  console.log("bare-closed-again", am.running);
}

// 2. An HTTP listener, a raw TCP listener and a client connected to it.
{
  const am = new AsyncManager();
  await am.start();
  const web = await am.listen("http://127.0.0.1:${p1}");
  const tcp = await am.listen("tcp://127.0.0.1:${p2}");
  const client = await am.connect("tcp://127.0.0.1:${p2}");
  console.log("listening", web.isListening, tcp.isListening, client.isClient, web.localAddr?.port, client.remoteAddr?.port);
  await am.close();
  console.log("listeners-closed", am.running, web.isClosed, tcp.isClosed, client.isClosed);
  // The sockets were released: a new manager binds the same ports.
  const again = new AsyncManager();
  await again.start();
  await again.listen("http://127.0.0.1:${p1}");
  await again.listen("tcp://127.0.0.1:${p2}");
  console.log("rebound");
  await again.close();
}

// 3. pollInterval 5000: start and close must not wait for the poll to time out.
{
  let t = Date.now();
  const am = new AsyncManager(undefined, { pollInterval: 5000 });
  await am.start();
  console.log("slow-start-ms", Date.now() - t);
  await am.listen("http://127.0.0.1:${p1}");
  await am.sleep(300);  // the poll task is now deep in its 5 s wait
  t = Date.now();
  await am.close();
  console.log("slow-close-ms", Date.now() - t);
}

// 4. AsyncManager.run closes after fn, also when fn throws.
{
  let kept: AsyncManager | undefined;
  const value = await AsyncManager.run(async (am) => {
    kept = am;
    await am.listen("http://127.0.0.1:${p1}");
    return am.running ? "inside-running" : "inside-stopped";
  });
  console.log("run", value, kept!.running);
  try {
    await AsyncManager.run(async (am) => {
      kept = am;
      throw new Error("boom in run");
    });
  } catch (error) {
    console.log("run-threw", (error as Error).message, kept!.running);
  }
}

// 5. await using closes the manager when its block ends, also when the block throws.
{
  let kept: AsyncManager | undefined;
  {
    await using am = new AsyncManager();
    await am.start();
    kept = am;
    console.log("using-inside", am.running);
  }
  console.log("using-after", kept.running);
  try {
    await using am = new AsyncManager();
    await am.start();
    kept = am;
    throw new Error("boom in using");
  } catch (error) {
    console.log("using-threw", (error as Error).message, kept.running);
  }
  // Plain using (sync) works the same way.
  const log: string[] = [];
  {
    using _r = { [Symbol.dispose]: () => log.push("disposed") };
    log.push("body");
  }
  console.log("sync-using", log.join(","));
}
console.log("done", at());
`);
    result = await run(exe);
  });

  it("exits 0 after the last close, with nothing pending", () => {
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    // A leftover timer (close's 5 s retry, say) would keep the firmware up.
    expect(result.ms).toBeLessThan(figure(result.stdout, "done") + 1500);
  });

  it("starts and closes without listeners", () => {
    expect(result.stdout).toContain("bare-new false\nbare-started true\nbare-closed false\nbare-closed-again false\n");
  });

  it("starts and closes with listeners and a client, closing them all and releasing the ports", () => {
    expect(result.stdout).toMatch(/^listening true true true \d+ \d+$/m);
    expect(result.stdout).toContain("listeners-closed false true true true\nrebound\n");
  });

  it("with pollInterval 5000 starts and closes in well under a second", () => {
    expect(figure(result.stdout, "slow-start-ms")).toBeLessThan(1000);
    expect(figure(result.stdout, "slow-close-ms")).toBeLessThan(1000);
  });

  it("AsyncManager.run closes the manager after fn returns or throws", () => {
    expect(result.stdout).toContain("run inside-running false\n");
    expect(result.stdout).toContain("run-threw boom in run false\n");
  });

  it("await using closes the manager at the end of its block, also on a throw; using works too", () => {
    expect(result.stdout).toContain("using-inside true\nusing-after false\n");
    expect(result.stdout).toContain("using-threw boom in using false\n");
    expect(result.stdout).toContain("sync-using body,disposed\n");
  });
});

describe("AsyncManager members before start() and after close()", () => {
  let result: RunResult;
  beforeAll(async () => {
    const port = await freePort();
    const exe = build(`
import { AsyncManager } from "mongoose";
const url = "http://127.0.0.1:${port}";
const members: Record<string, (am: AsyncManager) => unknown> = {
  listen: (am) => am.listen(url),
  connect: (am) => am.connect(url),
  wsConnect: (am) => am.wsConnect("ws://127.0.0.1:${port}/"),
  serve: (am) => am.serve(url, () => "x"),
  fetch: (am) => am.fetch(url),
  timerAdd: (am) => am.timerAdd(10, () => console.log("timer ran")),
  wakeup: (am) => am.wakeup(1, "x"),
};
async function attempt(when: string, am: AsyncManager): Promise<void> {
  for (const [name, member] of Object.entries(members)) {
    try {
      await member(am);
      console.log(when, name, "did not throw");
    } catch (error) {
      console.log(when, name, (error as Error).message);
    }
  }
}
const am = new AsyncManager();
await attempt("before", am);
await am.start();
const conn = await am.listen(url);
console.log("wakeup-live", am.wakeup(conn.id, "x"), "wakeup-unknown", am.wakeup(999999, "x"));
await am.close();
await attempt("after", am);
try {
  await am.start();
} catch (error) {
  console.log("restart", (error as Error).message);
}
`);
    result = await run(exe);
  });

  it.each(["listen", "connect", "wsConnect", "serve", "fetch", "timerAdd", "wakeup"])("%s throws 'AsyncManager is not started'", (name) => {
    expect(result.stdout).toContain(`before ${name} AsyncManager is not started\n`);
    expect(result.stdout).toContain(`after ${name} AsyncManager is not started\n`);
  });

  it("works while running, and a closed manager cannot be started again", () => {
    expect(result.stdout).toContain("wakeup-live true wakeup-unknown false\n");
    expect(result.stdout).toMatch(/^restart AsyncManager is closed: start\(\) works once$/m);
    expect(result.stdout).not.toContain("timer ran");
    expect(result.code).toBe(0);
  });
});

describe("AsyncManager commands: the queue's length and request ids", () => {
  let result: RunResult;
  beforeAll(async () => {
    const port = await freePort();
    const exe = build(`
import { AsyncManager } from "mongoose";
for (const length of [70000, -1, 1.5]) {
  try {
    await new AsyncManager(undefined, { commandQueueLength: length }).start();
    console.log("length", length, "started");
  } catch (error) {
    console.log("length", length, (error as Error).name, (error as Error).message);
  }
}
const am = new AsyncManager(undefined, { commandQueueLength: 8 });
await am.start();
const conn = await am.listen("tcp://127.0.0.1:${port}");
am._stall(500);  // the poll task takes no command for 0.5 s
await am.sleep(50);
let accepted = 0;
let refusal = "";
for (let i = 0; i < 100 && !refusal; i++) {
  try {
    am.wakeup(conn.id, "x");
    accepted++;
  } catch (error) {
    refusal = (error as Error).message;
  }
}
console.log("accepted", accepted, refusal);
await am.sleep(600);
console.log("after", am.wakeup(conn.id, "x"));
// Request ids wrap after 2^32 - 1 to 3, past ids still waiting: connect takes
// 2^32 - 2, the sends 2^32 - 1, 3, 4 and 5.
am._lastRequest = 0xffffffff - 2;
const client = await am.connect("tcp://127.0.0.1:${port}");
for (let i = 0; i < 4; i++) await client.send("x");
am._stall(200);
await am.sleep(20);
const waiting = client.send("y");  // 6, until the poll task is back
am._lastRequest = 5;
const next = client.send("z");  // not 6 again: 7
const late = new Promise((resolve) => setTimeout(() => resolve("not settled"), 5000));
console.log("wrapped", await Promise.race([Promise.all([waiting, next]).then(() => "settled"), late]));
await am.close();
`);
    result = await run(exe);
  });

  it("holds that many commands: the next throws, saying so, and once the poll task catches up it takes them again", () => {
    // A debug engine starts the message with the native's name.
    expect(result.stdout).toMatch(/^accepted 8 (wakeup: )?the AsyncManager's command queue is full \(8 commands\): the poll task is not keeping up$/m);
    expect(result.stdout).toContain("after true\n");
    expect(result.code).toBe(0);
  });

  it("request ids wrap after 2^32 - 1 and skip the ones still waiting: every command settles", () => {
    expect(result.stdout).toContain("wrapped settled\n");
  });

  it("is a whole number up to 65,535: anything else makes start() reject with a TypeError naming it", () => {
    for (const length of ["70000", "-1", "1.5"])
      expect(result.stdout).toMatch(new RegExp(`^length ${length.replace(".", "\\.")} TypeError .*commandQueueLength must be an integer from 0 to 65535 or undefined$`, "m"));
  });
});

describe("AsyncManager shutdown with a stalled poll task", () => {
  let result: RunResult;
  beforeAll(async () => {
    const port = await freePort();
    const exe = build(`
import { AsyncManager } from "mongoose";
let t0 = Date.now();
// The warnings go to stderr; this copy on stdout carries the time they were printed.
const warn = console.warn;
console.warn = (...args: unknown[]) => {
  console.log("warn", Date.now() - t0, ...args);
  warn(...args);
};
const am = new AsyncManager(undefined, { shutdownTimeout: 11000 });
await am.start();
await am.listen("http://127.0.0.1:${port}");
am._stall(20000);  // the poll task blocks in "native work" for 20 s
await am.sleep(100);
t0 = Date.now();
await am.close();
console.log("closed", Date.now() - t0, am.running);
`);
    result = await run(exe, 40000);
  }, 60000);

  it("warns at about 5 s and 10 s, naming what the poll task is stuck in", () => {
    const warnings = result.stdout.split("\n").filter((l) => l.startsWith("warn "));
    expect(warnings).toHaveLength(3);
    const times = warnings.map((l) => Number(l.split(" ")[1]));
    expect(times[0]).toBeGreaterThanOrEqual(4900);
    expect(times[0]).toBeLessThan(6000);
    expect(times[1]).toBeGreaterThanOrEqual(9900);
    expect(times[1]).toBeLessThan(11000);
    expect(warnings[0]).toContain("still running");
    expect(warnings[0]).toContain("native work (test stall)");
    expect(warnings[1]).toContain("native work (test stall)");
    expect(result.stderr).toContain("native work (test stall)");
  });

  it("abandons the poll task at shutdownTimeout and close() resolves", () => {
    const warnings = result.stdout.split("\n").filter((l) => l.startsWith("warn "));
    expect(warnings[2]).toMatch(/^warn \d+ .*did not stop within 11000 ms \(stuck in native work \(test stall\)\); abandoning/);
    const closed = figure(result.stdout, "closed");
    expect(closed).toBeGreaterThanOrEqual(10900);
    expect(closed).toBeLessThan(12500);
    expect(result.stdout).toMatch(/^closed \d+ false$/m);
    // The stall lasts 20 s: exiting at ~11 s shows nothing waited for the poll task.
    expect(result.code).toBe(0);
  });
});

describe("AsyncManager closing with a connect still pending", () => {
  it("a connect that times out while close() waits for a stalled poll task does not take the firmware down", async () => {
    const silent = net.createServer(() => undefined);  // accepts, never answers the WebSocket handshake
    await listenFresh(silent);
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const exe = build(`
import { AsyncManager } from "mongoose";
const am = new AsyncManager(undefined, { shutdownTimeout: 1500 });
await am.start();
am.wsConnect("ws://127.0.0.1:${port}/", undefined, { timeout: 500 }).then(
  () => console.log("ws-connected"),
  (error) => console.log("ws-rejected", (error as Error).message));
await am.sleep(200);  // connected, waiting for a handshake that never comes
am._stall(5000);
await am.close();     // abandons at 1.5 s; the connect timed out at 0.5 s, while closing
console.log("closed", am.running);
`);
      const result = await run(exe, 20000);
      expect(result.stdout).toContain(`ws-rejected connect ws://127.0.0.1:${port}/: timed out after 500 ms\n`);
      expect(result.stdout).toContain("closed false\n");
      expect(result.code).toBe(0);
    } finally {
      silent.close();
    }
  }, 60000);
});

describe("AsyncManager shutdown with the event queue full", () => {
  it("does not deadlock when close() is called while 200 clients' events are queued", async () => {
    const port = await freePort();
    const exe = build(`
import { AsyncManager, MG_EV_HTTP_MSG, MG_EV_ACCEPT } from "mongoose";
const t0 = Date.now();
let busy = false;
let accepts = 0;
const am = new AsyncManager((conn, ev) => {
  if (ev === MG_EV_ACCEPT) accepts++;
  if (ev !== MG_EV_HTTP_MSG || !am.running) return;
  if (!busy) {
    busy = true;
    console.log("busy", Date.now() - t0);
    const end = Date.now() + 2000;
    while (Date.now() < end);  // blocks the XS task: the poll task fills the event queue meanwhile
    console.log("closing", Date.now() - t0, "accepts-seen", accepts);
    am.close().then(() => console.log("closed", Date.now() - t0));
    return;
  }
  conn.reply(200, "late");
});
await am.start();
await am.listen("http://127.0.0.1:${port}");
console.log("ready");
`);
    const fw = start(exe, [], 30000);
    expect(await fw.firstLine).toBe("ready");
    const agent = new http.Agent({ keepAlive: false, maxSockets: 1000 });
    const request = () =>
      new Promise<string>((resolve) => {
        const req = http.get({ host: "127.0.0.1", port, path: "/", agent }, (res) => {
          res.resume();
          res.on("end", () => resolve(String(res.statusCode)));
          res.on("error", () => resolve("error"));
        });
        req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
        req.setTimeout(15000, () => req.destroy(new Error("timeout")));
      });
    const first = request();
    await new Promise((r) => setTimeout(r, 200));  // the handler is busy now
    const rest = Array.from({ length: 200 }, request);
    // One batch per poll iteration, 64 in the XS task's queue: the poll task is
    // soon blocked posting (back-pressure), so the kernel's accept queue grows.
    await new Promise((r) => setTimeout(r, 1000));
    const backlog = acceptQueue(port);
    const outcomes = await Promise.all([first, ...rest]);
    const result = await fw.done;
    agent.destroy();
    expect(backlog).toBeGreaterThan(0);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const closing = figure(result.stdout, "closing");
    expect(closing).toBeGreaterThanOrEqual(1900);
    expect(figure(result.stdout, "closed") - closing).toBeLessThan(2000);
    // Every client got an end: the connection closed (reset) or, for the ones
    // answered before close, a status; none hung until its timeout.
    expect(outcomes.filter((o) => o === "timeout" || o === "error")).toEqual([]);
  }, 60000);
});

describe("AsyncManager timers", () => {
  it("timerAdd from a handler does not deadlock, repeats, and cancels", async () => {
    const port = await freePort();
    const exe = build(`
import { AsyncManager, HttpMessage, MG_EV_HTTP_MSG } from "mongoose";
const am = new AsyncManager(async (conn, ev, data) => {
  if (ev !== MG_EV_HTTP_MSG || !(data instanceof HttpMessage)) return;
  if (data.uri === "/once") {
    // From inside the handler: a timer whose callback answers and adds another.
    am.timerAdd(20, () => {
      am.timerAdd(20, () => conn.reply(200, "from a timer in a timer"));
    });
  } else if (data.uri === "/repeat") {
    let n = 0;
    const timer = am.timerAdd(10, () => {
      if (++n === 5) {
        timer.cancel();
        conn.reply(200, "repeated " + n + " " + timer.active);
      }
    }, { repeat: true });
  } else if (data.uri === "/now") {
    let ran = 0;
    am.timerAdd(10000, () => ran++, { runNow: true }).cancel();
    conn.reply(200, "ran now " + ran);
  } else if (data.uri === "/quit") {
    await conn.reply(200, "bye");
    await am.close();
  }
});
await am.start();
await am.listen("http://127.0.0.1:${port}");
console.log("ready");
`);
    const fw = start(exe, [], 30000);
    expect(await fw.firstLine).toBe("ready");
    const get = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).text();
    expect(await Promise.all([get("/once"), get("/repeat"), get("/now")])).toEqual([
      "from a timer in a timer", "repeated 5 false", "ran now 1",
    ]);
    expect(await get("/quit")).toBe("bye");
    const result = await fw.done;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });
});
