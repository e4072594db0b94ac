// SPDX-License-Identifier: MIT
// Preloading (xsmgc link --prepare): built-ins and the manifests' "preload" modules
// are run at build time and booted from const data. Their objects must behave as
// if the firmware had built them: frozen ones refuse writes, others take writes
// (copied into RAM) that are seen afterwards, classes keep their identity.
import { buildApp, lines, makeApp, runFirmware, start, TEST_VARIANT, xsmg } from "./helpers/sim";
import { freePort } from "./helpers/net";
import { simultaneous } from "./helpers/http";
import path from "path";

// A preloaded library with mutable state, a class and a function.
const LIB = `
export const settings = { count: 0, name: "lib" };
export let counter = 0;
export function inc(): number { return ++counter; }
export function bump(): number { return ++settings.count; }
export class Shape {
  constructor(readonly sides: number) {}
  describe(): string { return "shape of " + this.sides; }
}
export const table = [1, 2, 3];
export const PATTERN = /^a(b+)c$/;
`;

// Not preloaded: it makes objects from the preloaded classes at run time.
const MAKER = `
import { Shape } from "lib";
import { HttpMessage } from "mongoose";
export function make(): Shape { return new Shape(4); }
export const httpMessageClass = HttpMessage;
`;

const MAIN = `
import Timer from "timer";
import { settings, counter, inc, bump, Shape, table, PATTERN } from "lib";
import { make, httpMessageClass } from "maker";
import { Manager, HttpMessage, MG_EV_HTTP_MSG, WAKEUP_MAX_BYTES, base64Encode, logGet } from "mongoose";

const out = (name: string, value: unknown) => console.log(name + " " + JSON.stringify(value));
const throws = (f: () => void) => { try { f(); return "no"; } catch (e) { return (e as Error).constructor.name; } };

// Frozen at load (timer.js freezes Timer): still frozen, writes refused.
out("timer-frozen", Object.isFrozen(Timer));
out("timer-write", throws(() => { (Timer as unknown as Record<string, unknown>).extra = 1; }));
out("timer-works", typeof Timer.set);

// Built-ins take writes as before; the written value is seen afterwards.
(Math as unknown as Record<string, unknown>).answer = 42;
out("math-write", (Math as unknown as Record<string, unknown>).answer);
(Array.prototype as unknown as Record<string, unknown>).tag = "arr";
out("array-proto-write", ([] as unknown as Record<string, unknown>).tag);
out("json", JSON.stringify({ a: [1, "x"] }));

// A preloaded module's exports work; its mutable state lives in RAM.
settings.count = 5;
out("bump", bump());
out("settings", { ...settings });
// This XS marks the objects JSON.stringify is inside, which it cannot do to const
// data: a preloaded object refuses (README, Preloading); a copy of it does not.
out("stringify-preloaded", throws(() => JSON.stringify(settings)));
out("inc", [inc(), inc(), counter]);
table.push(4);
out("table", [...table]);
const m = PATTERN.exec("abbbc");
out("regexp", m && m[1]);
out("regexp-again", PATTERN.test("ac"));

// Classes: identity and instanceof across preloaded and non-preloaded modules.
const s = make();
out("instanceof", s instanceof Shape);
out("method", s.describe());
class Square extends Shape { constructor() { super(4); } }
out("subclass", new Square() instanceof Shape && new Square().describe());
out("identity", httpMessageClass === HttpMessage);

// mongoose: constants, functions, a Manager.
out("mongoose", [MG_EV_HTTP_MSG, WAKEUP_MAX_BYTES, base64Encode("hi"), logGet()]);
const mgr = new Manager();
out("manager", typeof mgr.poll);
mgr.close();
`;

function app(preload: string[] = ["lib"]) {
  return makeApp({
    "manifest.json": JSON.stringify({ modules: { "*": ["./main", "./lib", "./maker"] }, preload }),
    "main.ts": MAIN,
    "lib.ts": LIB,
    "maker.ts": MAKER,
  });
}

function results(stdout: string): Record<string, unknown> {
  return Object.fromEntries(lines(stdout).map((l) => [l.slice(0, l.indexOf(" ")), JSON.parse(l.slice(l.indexOf(" ") + 1))]));
}

const EXPECTED = {
  "timer-frozen": true,
  "timer-write": "TypeError",
  "timer-works": "function",
  "math-write": 42,
  "array-proto-write": "arr",
  json: '{"a":[1,"x"]}',
  bump: 6,
  settings: { count: 6, name: "lib" },
  inc: [1, 2, 2],
  table: [1, 2, 3, 4],
  regexp: "bbb",
  "regexp-again": false,
  instanceof: true,
  method: "shape of 4",
  subclass: "shape of 4",
  identity: true,
  mongoose: [11, 16376, "aGk=", 1],
  manager: "function",
};

// Each build says whether preloading is on, whatever the environment (CI also
// runs the other suites with XSMG_PRELOAD=0).
const ON = { XSMG_PRELOAD: "1" };
const OFF = { XSMG_PRELOAD: "0" };

describe("preloaded modules", () => {
  test("the build preloads the built-ins' modules and the app's, and says so", () => {
    const dir = app();
    const r = xsmg(["build", "--manifest", path.join(dir, "manifest.json"), "--out", path.join(dir, "out"), "--variant", TEST_VARIANT], ON);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/image .* preloaded timer, mongoose, lib\n/);
  });

  test("preloaded objects behave as objects built at boot: frozen stay frozen, writes go to RAM and are seen", async () => {
    const r = await runFirmware(buildApp(app(), TEST_VARIANT, ON));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(results(r.stdout)).toEqual({ ...EXPECTED, "stringify-preloaded": "TypeError" });
  });

  test("with preloading off (XSMG_PRELOAD=0) the same app gives the same results", async () => {
    const dir = app();
    const r = xsmg(["build", "--manifest", path.join(dir, "manifest.json"), "--out", path.join(dir, "out"), "--variant", TEST_VARIANT], OFF);
    expect(r.stdout + r.stderr).toMatch(/image .* preload off \(XSMG_PRELOAD\)\n/);
    const run = await runFirmware(path.join(dir, "out", "firmware"));
    expect(run.code).toBe(0);
    expect(results(run.stdout)).toEqual({ ...EXPECTED, "stringify-preloaded": "no" });
  });

  test("a module that calls C while loading cannot be preloaded: the build names it and the native", () => {
    const dir = makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main", "./ticker"] }, preload: ["ticker"] }),
      "ticker.ts": `import Timer from "timer";\nexport const id = Timer.set(() => undefined, 1000);\n`,
      "main.ts": `import { id } from "ticker";\nconsole.log(id);\n`,
    });
    const r = xsmg(["build", "--manifest", path.join(dir, "manifest.json"), "--out", path.join(dir, "out"), "--quiet"], ON);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot preload "ticker": module "timer" calls its native function xm_timer_set while loading; leave it out of the manifest's "preload" list`);
  });

  test("a module that throws or keeps a Map while loading, or that main does not import, is a clear build error", () => {
    const throwing = makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main", "./bad"] }, preload: ["bad"] }),
      "bad.ts": `export const x = 1;\nthrow new RangeError("not at build time");\n`,
      "main.ts": `import { x } from "bad";\nconsole.log(x);\n`,
    });
    let r = xsmg(["build", "--manifest", path.join(throwing, "manifest.json"), "--out", path.join(throwing, "out"), "--quiet"], ON);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot preload "bad": module "bad" throws while loading: RangeError: not at build time`);
    const mutable = makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main", "./state"] }, preload: ["state"] }),
      "state.ts": `export const cache = new Map<string, number>([["a", 1]]);\n`,
      "main.ts": `import { cache } from "state";\nconsole.log(cache.size);\n`,
    });
    r = xsmg(["build", "--manifest", path.join(mutable, "manifest.json"), "--out", path.join(mutable, "out"), "--quiet"], ON);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot preload "state": module "state" (or a module it imports) keeps a Map made while loading`);
    const absent = makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main", "./unused"] }, preload: ["unused"] }),
      "unused.ts": `export const y = 2;\n`,
      "main.ts": `console.log(1);\n`,
    });
    r = xsmg(["build", "--manifest", path.join(absent, "manifest.json"), "--out", path.join(absent, "out"), "--quiet"], ON);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`preload names module "unused", which main does not import (not in the image)`);
  });

  test("--stats prints one xs-ram line; the prepared machine boots in a fraction of the RAM", async () => {
    const source = `import { MG_EV_HTTP_MSG } from "mongoose";\nconsole.log(MG_EV_HTTP_MSG);\n`;
    const stats = async (env: NodeJS.ProcessEnv) => {
      const dir = makeApp({ "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }), "main.ts": source });
      const r = await runFirmware(buildApp(dir, TEST_VARIANT, env), ["--stats"]);
      expect(r.code).toBe(0);
      const m = /^xs-ram: boot=(\d+) peak=(\d+) slots=(\d+)\/(\d+) chunks=(\d+)\/(\d+)$/m.exec(r.stderr);
      expect(m).not.toBeNull();
      return m!.slice(1).map(Number);
    };
    const [bootOn, peakOn, liveOn, maxOn] = await stats(ON);
    const [bootOff, peakOff, liveOff] = await stats(OFF);
    expect(maxOn).toBeGreaterThan(32000);  // the desktop profile: 32,768 slots, less a block header
    expect(bootOn * 2).toBeLessThan(bootOff);  // boot counts the key tables, allocated in full
    expect(peakOn * 4).toBeLessThan(peakOff);
    expect(liveOn * 10).toBeLessThan(liveOff);
  });

  // The requests go out together on connections already open, so that the poll
  // task reads them in one iteration: the worst case for the XS heap.
  test('an app with "creation": "esp32" serves 200 concurrent HTTP requests without running out of memory', async () => {
    const port = await freePort();
    const dir = makeApp({
      "manifest.json": JSON.stringify({ creation: "esp32", modules: { "*": ["./main"] } }),
      "main.ts": `import { AsyncManager } from "mongoose";
const am = new AsyncManager();
await am.start();
await am.serve("http://127.0.0.1:${port}", async (req) => ({ status: 200, body: "hello " + req.uri }));
console.log("serving");
`,
    });
    const fw = start(buildApp(dir, TEST_VARIANT, ON), ["--stats"], 60000);
    expect(await fw.firstLine).toBe("serving");
    const held = await simultaneous(port, 200, (i) => `/open${i}`, (i) => `/r${i}`).catch((e: Error) => e);
    fw.child.kill("SIGTERM");
    const r = await fw.done;
    const wrong = held instanceof Error ? [held.message] : held.answers.map((a) => `${a.status} ${a.body}`).filter((a, i) => a !== `200 hello /r${i}`);
    expect({ wrong, stderr: r.stderr }).toEqual({ wrong: [], stderr: expect.anything() });
    expect(r.stderr).not.toContain("out of memory");
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/^xs-ram: boot=\d+ peak=\d+ slots=\d+\/4927 chunks=\d+\/78848$/m);
  });
});
