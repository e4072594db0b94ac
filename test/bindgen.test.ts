// SPDX-License-Identifier: MIT
// The mongoose binding made from its description (modules/mongoose/binding.json)
// by firmware/bindgen.mjs: a described constant that mongoose.h contradicts stops
// generation naming it, the output does not depend on the run, and a native given
// a bad argument throws the generated prologue's TypeError in a real firmware.
import fs from "fs";
import os from "os";
import path from "path";
import { spawnSync } from "child_process";
import { ROOT, runMain } from "./helpers/sim";

const DESCRIPTION = path.join(ROOT, "modules", "mongoose", "binding.json");
const HEADER = path.join(ROOT, "deps", "mongoose", "mongoose.h");

// bindgen.mjs is an ES module: run it in a node of its own, as the toolchain does.
function bindgen(file: string): { code: number | null; stderr: string } {
  const script = `import { bindgen } from ${JSON.stringify(path.join(ROOT, "firmware", "bindgen.mjs"))};
try { bindgen(${JSON.stringify(file)}); } catch (e) { console.error(e.message); process.exit(2); }`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  return { code: r.status, stderr: r.stderr };
}

const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

// A copy of the description in a folder of its own, edited, reading the real mongoose.h.
function describedCopy(edit: (d: { mongoose: Record<string, Record<string, number>> }) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-bindgen-"));
  made.push(dir);
  const d = JSON.parse(fs.readFileSync(DESCRIPTION, "utf8"));
  d.header = HEADER;
  edit(d);
  const file = path.join(dir, "binding.json");
  fs.writeFileSync(file, JSON.stringify(d, null, 2));
  return file;
}

function outputs(dir: string): Record<string, { text: string; mtimeMs: number }> {
  const result: Record<string, { text: string; mtimeMs: number }> = {};
  for (const f of fs.readdirSync(dir).sort())
    result[f] = { text: fs.readFileSync(path.join(dir, f), "utf8"), mtimeMs: fs.statSync(path.join(dir, f)).mtimeMs };
  return result;
}

describe("the description is checked against mongoose.h", () => {
  test("an event number that differs stops generation, naming the constant and both values", () => {
    const file = describedCopy((d) => { d.mongoose.events.MG_EV_CLOSE = 10; });
    const r = bindgen(file);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`MG_EV_CLOSE is described as 10 but ${HEADER} has 9`);
    expect(fs.existsSync(path.join(path.dirname(file), "gen"))).toBe(false);
  });

  test("so does a WebSocket opcode (a #define) and a constant the header lacks", () => {
    expect(bindgen(describedCopy((d) => { d.mongoose.wsOps.WEBSOCKET_OP_PONG = 11; })).stderr.trim())
      .toBe(`WEBSOCKET_OP_PONG is described as 11 but ${HEADER} has 10`);
    expect(bindgen(describedCopy((d) => { d.mongoose.logLevels.MG_LL_LOUD = 5; })).stderr.trim())
      .toBe(`MG_LL_LOUD is described as 5 but ${HEADER} does not define it`);
  });

  test("so does an MQTT property id, a #define written in hex", () => {
    expect(bindgen(describedCopy((d) => { d.mongoose.mqttProperties.MQTT_PROP_TOPIC_ALIAS = 0x24; })).stderr.trim())
      .toBe(`MQTT_PROP_TOPIC_ALIAS is described as 36 but ${HEADER} has 35`);
  });
});

describe("generation is deterministic", () => {
  test("two runs write the same files, the second touching none; they are what the build uses", () => {
    const file = describedCopy(() => {});
    expect(bindgen(file).code).toBe(0);
    const gen = path.join(path.dirname(file), "gen");
    const first = outputs(gen);
    expect(bindgen(file).code).toBe(0);
    expect(outputs(gen)).toEqual(first);
    // The same text as the module's own gen/, as a build or npm install makes it.
    expect(bindgen(DESCRIPTION).code).toBe(0);
    const own = outputs(path.join(ROOT, "modules", "mongoose", "gen"));
    expect(Object.keys(own)).toEqual(Object.keys(first));
    for (const f of Object.keys(first)) expect(own[f].text).toBe(first[f].text);
    expect(Object.keys(first)).toEqual(expect.arrayContaining(["native.js", "native.d.ts", "constants.ts", "wire.ts", "xm_wire.h", "xm_args.h"]));
  });
});

test("a native given a bad argument throws the prologue's TypeError naming the function and the argument", async () => {
  const r = await runMain(`import { Manager } from "mongoose";
import * as native from "mongoose/native";
import * as net from "mongoose/native-net";
import * as util from "mongoose/native-util";

function attempt(what: string, f: () => unknown): void {
  try {
    f();
    console.log(what + " did not throw");
  } catch (e) {
    console.log(what + " " + (e as Error).name + ": " + (e as Error).message);
  }
}

const m = new Manager();
const listener = m.listen("tcp://127.0.0.1:0") as unknown as object;
attempt("bytes", () => util.digest(42 as unknown as string, 0));
attempt("string", () => util.urlPart(undefined as unknown as string, 0));
attempt("host", () => net.managerDns({}, "udp://127.0.0.1:53", 100));
attempt("int", () => native.connPeek(listener, 2 as 0 | 1));
attempt("optional", () => net.managerDns(m.nativeHandle, 5 as unknown as string, undefined));
attempt("function", () => m.timerAdd(10, "soon" as unknown as () => void));
attempt("message", () => native.hmField(listener, 0));
attempt("good", () => util.digest(new Uint8Array([1, 2, 3]), 0));
m.close();
`, { args: ["--timeout", "10"] });
  expect(r.stdout.split("\n").filter(Boolean)).toEqual([
    "bytes TypeError: digest: data must be a string, ArrayBuffer or view",
    "string TypeError: urlPart: url must be a string",
    "host TypeError: managerDns: manager must be a Manager",
    "int TypeError: connPeek: which must be an integer from 0 to 1",
    "optional TypeError: managerDns: url must be a string or undefined",
    "function TypeError: timerAdd: callback must be a function",
    "message TypeError: hmField: msg must be an HttpMessage",
    "good did not throw",
  ]);
  expect(r.code).toBe(0);
});
