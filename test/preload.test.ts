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
// data; the runtime's JSON.stringify takes them all the same (runtime/xm_json.c).
out("stringify-preloaded", JSON.stringify(settings));
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
  "stringify-preloaded": '{"count":6,"name":"lib"}',
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
    expect(results(r.stdout)).toEqual(EXPECTED);
  });

  test("with preloading off (XSMG_PRELOAD=0) the same app gives the same results", async () => {
    const dir = app();
    const r = xsmg(["build", "--manifest", path.join(dir, "manifest.json"), "--out", path.join(dir, "out"), "--variant", TEST_VARIANT], OFF);
    expect(r.stdout + r.stderr).toMatch(/image .* preload off \(XSMG_PRELOAD\)\n/);
    const run = await runFirmware(path.join(dir, "out", "firmware"));
    expect(run.code).toBe(0);
    expect(results(run.stdout)).toEqual(EXPECTED);
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

  test("a module that reads the clock or calls Math.random while loading is a clear build error naming the module", () => {
    const build = (clock: string, extra: Record<string, string> = {}) => {
      const dir = makeApp({
        "manifest.json": JSON.stringify({ modules: { "*": ["./main", "./clock", "./inner"] }, preload: ["clock"] }),
        "clock.ts": clock,
        "inner.ts": `export const boot = Date.now();\n`,
        "main.ts": `import * as clock from "clock";\nconsole.log(Object.keys(clock).length);\n`,
        ...extra,
      });
      return xsmg(["build", "--manifest", path.join(dir, "manifest.json"), "--out", path.join(dir, "out"), "--quiet"], ON);
    };
    const cases: [string, string][] = [
      [`export const bootTime = Date.now();\n`, `module "clock" reads the clock (Date.now) while loading`],
      [`export const at = new Date().toISOString();\n`, `module "clock" reads the clock (new Date()) while loading`],
      [`export const at = (Date as unknown as () => string)();\n`, `module "clock" reads the clock (Date()) while loading`],
      [`export const id = Math.random();\n`, `module "clock" calls Math.random while loading (every device would draw the same number)`],
      // Caught by the module: still a value it would freeze.
      [`let t = 0;\ntry { t = Date.now(); } catch { t = -1; }\nexport const at = t;\n`, `module "clock" reads the clock (Date.now) while loading`],
      // Read by a module it imports: that module is named.
      [`import { boot } from "inner";\nexport const at = boot;\n`, `module "inner" reads the clock (Date.now) while loading`],
    ];
    for (const [source, reason] of cases) {
      const r = build(source);
      expect({ source, code: r.code }).toEqual({ source, code: 2 });
      expect(r.stderr).toContain(`cannot preload "clock": ${reason}; leave it out of the manifest's "preload" list`);
    }
  });

  test("a preloaded module that reads the clock and Math.random in functions called later works as before", async () => {
    const dir = makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main", "./clock"] }, preload: ["clock"] }),
      "clock.ts": `export const epoch = new Date(0).toISOString();
export const now = Date.now;
export function uptime(): number { return Date.now(); }
export function dice(): number { return Math.random(); }
export class Stamp extends Date { constructor() { super(); } }
`,
      "main.ts": `import { epoch, now, uptime, dice, Stamp } from "clock";
console.log(JSON.stringify([epoch, now() > 1.7e12, uptime() > 1.7e12, dice() < 1, new Stamp().getTime() > 1.7e12, new Date().getTime() > 1.7e12, String(Date()).length > 0]));
`,
    });
    const r = await runFirmware(buildApp(dir, TEST_VARIANT, ON));
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`["1970-01-01T00:00:00.000Z",true,true,true,true,true,true]\n`);
  });

  test("JSON.stringify of preloaded objects gives what Node gives for the same data, preloading on and off", async () => {
    // Plain JavaScript, run as a preloaded module in the firmware and here in Node.
    const data = `
const plain = { a: 1, b: "x\\ny \\u00e9 \\ud83d\\ude00", c: true, d: null, e: [0.1, -0, 1e21, NaN, { f: "g" }] };
const nested = { level1: { level2: { level3: [1, [2, [3, { deep: "yes" }]]] } }, after: "z" };
const list = [1, "two", { three: 3 }, [4], null, undefined, function () { return 1; }, Symbol("s")];
const frozen = Object.freeze({ k: "v", inner: Object.freeze([1, Object.freeze({ x: 2 })]) });
const withToJSON = { secret: 1, toJSON(key) { return { shown: true, key }; } };
const dates = { epoch: new Date(0), later: new Date(Date.UTC(2026, 11, 4)) };
const mixed = { 2: "two", b: "bee", 1: "one", a: "ay", u: undefined, fn() { return 1; }, [Symbol("k")]: 1 };
const boxed = { n: new Number(3), s: new String("s"), b: new Boolean(false) };
const big = { n: 1n };
const written = { before: 1 };
const cyclic = { name: "c", child: { name: "d" } };
const holders = { a: { n: 1 }, b: [{ n: 2 }] };
const getters = { get g() { return [this.h, "got"]; }, h: 1 };
const again = { child: {} };
`;
    const cases = `{
  plain: () => JSON.stringify(d.plain),
  nested: () => JSON.stringify(d.nested, null, 2),
  "list-tab": () => JSON.stringify(d.list, null, "\\t"),
  "list-space-clamped": () => JSON.stringify(d.list, null, 20),
  "nested-long-gap": () => JSON.stringify(d.nested, null, "<--gap-is-longer-than-ten-->"),
  frozen: () => JSON.stringify(d.frozen),
  "frozen-isFrozen": () => String(Object.isFrozen(d.frozen)),
  "replacer-function": () => JSON.stringify(d.plain, (k, v) => typeof v === "number" ? v * 10 : k === "b" ? undefined : v),
  "replacer-this": () => JSON.stringify(d.holders, function (k, v) { return k === "n" ? Object.keys(this).join("|") + (this === d.holders.a || this === d.holders.b[0]) : v; }),
  "replacer-array": () => JSON.stringify(d.mixed, ["b", "2", "a", "1", "u", "fn", "missing", "b"]),
  "replacer-array-kinds": () => JSON.stringify(d.nested, ["level1", new String("level2"), 3, "after", "level3"], 1),
  "replacer-array-space": () => JSON.stringify([d.mixed, d.plain], ["a", 2, "e"], "  "),
  toJSON: () => JSON.stringify([d.withToJSON, d.dates]),
  mixed: () => JSON.stringify(d.mixed, null, 2),
  boxed: () => JSON.stringify(d.boxed),
  getters: () => JSON.stringify(d.getters),
  bigint: () => JSON.stringify(d.big),
  "in-ram": () => JSON.stringify({ wrap: d.plain, arr: [d.list, d.frozen] }),
  "replaced-by-preloaded": () => JSON.stringify({ x: 1, y: [2] }, (k, v) => k === "x" ? d.frozen : v),
  "in-ram-listed": () => JSON.stringify({ e: d.plain, z: 1, a: [d.plain] }, ["e", "a", "f"]),
  built_in: () => JSON.stringify([Math, JSON, Object.prototype]),
  written: () => { d.written.after = [2]; return JSON.stringify(d.written); },
  cyclic: () => { d.cyclic.child.back = d.cyclic; return JSON.stringify(d.cyclic); },
  "cyclic-in-ram": () => { const o = { p: d.holders.a }; d.holders.a.o = o; return JSON.stringify(o); },
  "undefined": () => String(JSON.stringify(function () {})),
  "nested-cycle-ram": () => { const a = { p: d.plain, child: { toJSON() { return JSON.stringify(a); } } }; return JSON.stringify(a); },
  "nested-cycle-const": () => { d.again.child.toJSON = () => JSON.stringify(d.again); return JSON.stringify(d.again); },
}`;
    const names = "plain, nested, list, frozen, withToJSON, dates, mixed, boxed, big, written, cyclic, holders, getters, again";
    const run = `const out = {};
for (const [name, f] of Object.entries(cases)) {
  try { out[name] = f(); } catch (e) { out[name] = "throws " + e.constructor.name; }
}
`;
    // Node's JSON.stringify on the same data and calls: the text expected.
    const expected = new Function(`${data}\nconst d = { ${names} };\nconst cases = ${cases};\n${run}return out;`)() as Record<string, string>;
    expect(expected.cyclic).toBe("throws TypeError");
    expect(expected.bigint).toBe("throws TypeError");
    // A toJSON that stringifies an object it is inside: Node recurses until its
    // stack overflows; this XS finds the cycle (the engine's marks hold across the
    // nested call), preloaded or not.
    for (const name of ["nested-cycle-ram", "nested-cycle-const"]) {
      expect(expected[name]).toBe("throws RangeError");
      expected[name] = "throws TypeError";
    }
    const dir = makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main", "./data"] }, preload: ["data"] }),
      "data.ts": `// @ts-nocheck\n${data}\nexport { ${names} };\n`,
      "main.ts": `// @ts-nocheck\nimport * as d from "data";\nconst cases = ${cases};\n${run}for (const [name, r] of Object.entries(out)) console.log(name + " " + JSON.stringify(r));\n`,
    });
    const outs: Record<string, unknown>[] = [];
    for (const env of [ON, OFF]) {
      const r = await runFirmware(buildApp(dir, TEST_VARIANT, env));
      expect(r.stderr).toBe("");
      outs.push(results(r.stdout));
    }
    expect(outs[0]).toEqual(outs[1]);
    // This XS writes an empty object or array as "{", a line, an indent, "}" when
    // given a space (Node: "{}"), preloaded or not; the rest is Node's text.
    const asNode = Object.fromEntries(Object.entries(outs[0]).map(([k, v]) => [k, String(v).replace(/([[{])\n[ \t]*\n[ \t]*([\]}])/g, "$1$2")]));
    expect(asNode).toEqual(expected);
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
