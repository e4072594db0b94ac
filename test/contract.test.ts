// SPDX-License-Identifier: MIT
// Issue 11: seven places where the firmware broke what its README, typings or
// error messages promise, one test per item. They live together rather than in
// each subject's suite because most items span both managers, and each test then
// reads as its item does; every firmware here is its own, so no other suite's
// firmware or expectations change. CI runs this file under ThreadSanitizer too
// (.ci/run), as it starts AsyncManager poll tasks.
import fs from "fs";
import http from "http";
import net from "net";
import os from "os";
import path from "path";
import ts from "typescript";
import { buildApp, mainApp, ROOT } from "./helpers/sim";
import { exchange, freePort, sanitizerReports, startFirmware, type Running } from "./helpers/net";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function get(port: number, uri: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: uri, agent: false }, (res) => {
      let body = "";
      res.setEncoding("latin1");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.setTimeout(3000, () => req.destroy(new Error(`GET ${uri}: no answer in 3 s`)));
    req.on("error", reject);
  });
}

/** Builds a one-module firmware, starts it and waits for its "ready PORT" line. */
async function serve(source: string): Promise<{ fw: Running; port: number }> {
  const fw = startFirmware(buildApp(mainApp(source)));
  const port = Number((await fw.waitFor(/^ready \d+$/)).split(" ")[1]);
  return { fw, port };
}

/** Waits until check() holds, for up to ms: a firmware's output comes on pipes of its own, after its answers. */
async function eventually(check: () => boolean, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; !check() && Date.now() < end;) await sleep(20);
}

/** Resolves with the exit code, or undefined when the firmware is still running after ms. */
async function exitWithin(fw: Running, ms: number): Promise<number | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([fw.exited, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  clearTimeout(timer);
  return code;
}

const running: Running[] = [];
afterEach(async () => {
  for (const fw of running.splice(0)) {
    await fw.stop();
    expect(sanitizerReports(fw.stderr())).toEqual([]);
  }
});

// A firmware for each manager, serving HTTP on a port it prints ("ready PORT").
// handler(uri) answers or throws; it is the same code for both.
function syncServer(prelude: string, options: string, handler: string): string {
  return `
import { Manager, HttpMessage, MG_EV_HTTP_MSG } from "mongoose";
${prelude}
const mgr = new Manager((conn, ev, data) => {
  if (ev !== MG_EV_HTTP_MSG || !(data instanceof HttpMessage)) return;
  const uri = data.uri;
  ${handler}
}, ${options});
console.log("ready " + mgr.listen("http://127.0.0.1:0").localAddr!.port);
mgr.run(10);
`;
}

function asyncServer(port: number, prelude: string, options: string, handler: string): string {
  return `
import { AsyncManager } from "mongoose";
${prelude}
const am = new AsyncManager(undefined, ${options});
await am.start();
await am.serve("http://127.0.0.1:${port}", (req) => {
  const uri = req.uri;
  ${handler}
});
console.log("ready ${port}");
`;
}

test("1. an errorHandler that throws: both errors are reported (the first as the cause of the second) and the server keeps serving", async () => {
  const prelude = `let first: unknown;
let second: Error | undefined;`;
  const options = `{ errorHandler: (error) => {
  first = error;
  second = new Error("the errorHandler failed on purpose");
  throw second;
} }`;
  const handler = (kind: string) => `
  if (uri === "/boom") throw new Error("the ${kind} handler failed on purpose");
  const answer = uri === "/cause" ? String(second !== undefined && second.cause === first) : "served " + uri;`;
  const servers = [
    await serve(syncServer(prelude, options, handler("sync") + "\n  conn.reply(200, answer);")),
    await serve(asyncServer(await freePort(), prelude, options, handler("async") + "\n  return answer;")),
  ];
  running.push(...servers.map((s) => s.fw));
  for (const [i, { fw, port }] of servers.entries()) {
    const kind = i === 0 ? "sync" : "async";
    expect((await get(port, "/boom")).status).toBe(500);
    expect(await get(port, "/cause")).toEqual({ status: 200, body: "true" });
    expect(await get(port, "/after")).toEqual({ status: 200, body: "served /after" });
    await eventually(() => fw.stderr().includes("the errorHandler failed on purpose"));
    expect(fw.stderr()).toContain(`the ${kind} handler failed on purpose`);
    expect(fw.stderr()).toContain("the errorHandler failed on purpose");
  }
});

test("2. a repeating AsyncManager timer does not fire after close(), and the firmware then exits 0 within 2 s", async () => {
  const fw = startFirmware(buildApp(mainApp(`
import { AsyncManager } from "mongoose";
const am = new AsyncManager();
await am.start();
let ticks = 0;
am.timerAdd(20, () => console.log("tick " + ++ticks), { repeat: true });
am.timerAdd(300, () => console.log("one-shot fired"));
await am.sleep(150);
await am.close();
console.log("closed after " + ticks + " ticks");
`)));
  running.push(fw);
  const closed = await fw.waitFor(/^closed after \d+ ticks$/);
  expect(Number(closed.split(" ")[2])).toBeGreaterThanOrEqual(2);
  expect(await exitWithin(fw, 2000)).toBe(0);
  const after = fw.stdout().slice(fw.stdout().indexOf(closed) + closed.length);
  expect(after.trim()).toBe("");
  expect(fw.stdout()).not.toContain("one-shot fired");
});

test("3. every AsyncManager member that needs a running manager refuses before start() and after close() with 'AsyncManager is not started'", async () => {
  const port = await freePort();
  const fw = startFirmware(buildApp(mainApp(`
import { AsyncManager } from "mongoose";
const url = "http://127.0.0.1:${port}";
// How to call each member that needs a running manager.
const needsRunning: Record<string, (am: AsyncManager) => unknown> = {
  listen: (am) => am.listen(url),
  connect: (am) => am.connect(url),
  wsConnect: (am) => am.wsConnect("ws://127.0.0.1:${port}/"),
  mqttConnect: (am) => am.mqttConnect("mqtt://127.0.0.1:${port}"),
  mqttListen: (am) => am.mqttListen("mqtt://127.0.0.1:${port}"),
  mqtt: (am) => am.mqtt("mqtt://127.0.0.1:${port}"),
  mqttBroker: (am) => am.mqttBroker("mqtt://127.0.0.1:${port}"),
  sntp: (am) => am.sntp("udp://127.0.0.1:${port}"),
  syncClock: (am) => am.syncClock("udp://127.0.0.1:${port}"),
  sntpConnect: (am) => am.sntpConnect("udp://127.0.0.1:${port}"),
  sntpTime: (am) => am.sntpTime("udp://127.0.0.1:${port}"),
  serve: (am) => am.serve(url, () => "x"),
  fetch: (am) => am.fetch(url),
  sleep: (am) => am.sleep(10),
  schedule: (am) => am.schedule(() => console.log("scheduled work ran")),
  timerAdd: (am) => am.timerAdd(10, () => console.log("timer ran")),
  wakeup: (am) => am.wakeup(1, "x"),
  manager: (am) => am.manager,
  _stall: (am) => am._stall(1),
  _native: (am) => am._native,
  _command: (am) => am._command(() => undefined),
};
// The members that mean something in every state.
const anyState = ["constructor", "start", "close", "running", "handler", "connections", "_lastRequest", "Symbol(Symbol.asyncDispose)"];
const proto = AsyncManager.prototype;
const members = [...Object.getOwnPropertyNames(proto), ...Object.getOwnPropertySymbols(proto).map(String)];
for (const name of members)
  if (!(name in needsRunning) && !anyState.includes(name)) console.log("unclassified", name);
for (const name of Object.keys(needsRunning))
  if (!members.includes(name)) console.log("no such member", name);
async function attempt(when: string, am: AsyncManager): Promise<void> {
  for (const [name, call] of Object.entries(needsRunning)) {
    try {
      await call(am);
      console.log(when, name, "did not refuse");
    } catch (error) {
      console.log(when, name, error instanceof Error ? error.message : String(error));
    }
  }
}
const am = new AsyncManager();
await attempt("before", am);
await am.start();
console.log("running", am.manager === am);
await am.close();
await attempt("after", am);
console.log("walked " + Object.keys(needsRunning).join(" "));
`)));
  running.push(fw);
  const walked = (await fw.waitFor(/^walked /)).split(" ").slice(1);
  expect(await exitWithin(fw, 5000)).toBe(0);
  const out = fw.stdout();
  expect(out).toContain("running true\n");
  expect(out).not.toMatch(/^(unclassified|no such member) /m);
  expect(walked.length).toBeGreaterThanOrEqual(17);
  const refusals = out.split("\n").filter((line) => /^(before|after) /.test(line));
  expect(refusals).toEqual(["before", "after"].flatMap((when) => walked.map((name) => `${when} ${name} AsyncManager is not started`)));
  expect(out).not.toContain("timer ran");
  expect(out).not.toContain("scheduled work ran");
});

test("4. a 32 KiB Manager wakeup and a 64 KiB AsyncManager wakeup arrive byte-exact or are refused, never cut short", async () => {
  const fw = startFirmware(buildApp(mainApp(`
import { Manager, AsyncManager, MG_EV_WAKEUP, WAKEUP_MAX_BYTES } from "mongoose";

function pattern(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 8)) & 255;
  return bytes;
}
function describe(sent: Uint8Array, got: Uint8Array | undefined): string {
  if (!got) return "received nothing";
  return "received " + got.length + " exact " + String(got.length === sent.length && got.every((b, i) => b === sent[i]));
}
function outcome(wakeup: () => boolean): string {
  try {
    return "returned " + wakeup();
  } catch (error) {
    return "threw " + String(error);
  }
}
console.log("limit " + WAKEUP_MAX_BYTES);

const received: Uint8Array[] = [];
const mgr = new Manager(undefined, { enableWakeup: true });
const target = mgr.listen("tcp://127.0.0.1:0", (_conn, ev, data) => {
  if (ev === MG_EV_WAKEUP && data instanceof Uint8Array) received.push(data.slice());
});
for (const [label, size] of [["sync-32k", 32 * 1024], ["sync-limit", WAKEUP_MAX_BYTES], ["sync-over", WAKEUP_MAX_BYTES + 1]] as const) {
  const sent = pattern(size);
  const result = outcome(() => mgr.wakeup(target.id, sent));
  for (let i = 0; i < 30 && !received.length; i++) mgr.poll(10);
  console.log(label, result, describe(sent, received.shift()));
}
mgr.close();

const am = new AsyncManager();
await am.start();
let arrived: (data: Uint8Array) => void = () => undefined;
const conn = await am.listen("tcp://127.0.0.1:0", (_conn, ev, data) => {
  if (ev === MG_EV_WAKEUP && data instanceof Uint8Array) arrived(data);
});
const sent = pattern(64 * 1024);
const got = new Promise<Uint8Array | undefined>((resolve) => {
  arrived = resolve;
  am.sleep(3000).then(() => resolve(undefined));
});
console.log("async-64k", outcome(() => am.wakeup(conn.id, sent)), describe(sent, await got));
await am.close();
`)));
  running.push(fw);
  await fw.waitFor(/^async-64k /, 15000);
  const out = fw.stdout();
  const limit = Number(/^limit (\d+)$/m.exec(out)![1]);
  const line = (label: string) => new RegExp(`^${label} (.*)$`, "m").exec(out)![1];
  // Either all of it, or a refusal that names the limit; never a prefix.
  const allOrRefused = (label: string, size: number) => {
    const result = line(label);
    if (result.startsWith("returned true")) expect(result).toBe(`returned true received ${size} exact true`);
    else if (result.startsWith("returned false")) expect(result).toBe("returned false received nothing");
    else expect(result).toMatch(new RegExp(`^threw RangeError: .*\\b${limit}\\b.* received nothing$`));
  };
  allOrRefused("sync-32k", 32 * 1024);
  allOrRefused("sync-over", limit + 1);
  expect(line("sync-over")).not.toMatch(/^returned true/);
  expect(line("sync-limit")).toBe(`returned true received ${limit} exact true`);
  allOrRefused("async-64k", 64 * 1024);
});

test("5. a request line that is not HTTP, a NUL in the URI and two Content-Length headers get no 2xx, never reach the handler, and the server keeps serving", async () => {
  const handler = `console.log("handler saw " + JSON.stringify(uri));`;
  const servers = [
    await serve(syncServer("", "{}", handler + "\n  conn.reply(200, \"served\");")),
    await serve(asyncServer(await freePort(), "", "{}", handler + "\n  return \"served\";")),
  ];
  running.push(...servers.map((s) => s.fw));
  const bad: Array<[string, Buffer]> = [
    ["garbage line", Buffer.from("garbage bytes\r\n\r\n", "latin1")],
    ["UTF-8 garbage line", Buffer.from("\u00ff\u00fe \u00e9t\u00e9\r\n\r\n", "utf8")],
    ["a response line", Buffer.from("HTTP/1.1 200 OK\r\n\r\n", "latin1")],
    ["NUL in the URI", Buffer.from("GET /\0evil HTTP/1.1\r\nHost: x\r\n\r\n", "latin1")],
    ["two Content-Length headers", Buffer.from("POST /smuggle HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 100\r\n\r\nhello", "latin1")],
  ];
  for (const { fw, port } of servers) {
    for (const [what, request] of bad) {
      const r = await exchange(port, (s: net.Socket) => void s.write(request), 2000);
      expect({ what, answer: r.data.split("\r\n")[0] }).not.toEqual({ what, answer: expect.stringMatching(/^HTTP\/\d\.\d 2/) });
      expect({ what, ended: r.ended }).not.toEqual({ what, ended: "timeout" });
      expect(await get(port, "/healthy")).toEqual({ status: 200, body: "served" });
    }
    const seen = () => fw.stdout().split("\n").filter((l) => l.startsWith("handler saw "));
    await eventually(() => seen().length >= bad.length);
    expect(seen()).toEqual(bad.map(() => 'handler saw "/healthy"'));
  }
});

test("6. serveDir with {} or { rootDir: \"\" } throws before anything is sent, and no file is served", async () => {
  const secret = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-secret-")), "secret.txt");
  fs.writeFileSync(secret, "the secret\n");
  try {
    // What JavaScript, or TypeScript through a cast, can pass. AsyncConnection has
    // no serveDir (README: its members): there the call must fail as well.
    const handler = (reply: string) => `
  const options = data.query === "empty" ? { rootDir: "" } : {};
  try {
    (conn as unknown as { serveDir(msg: HttpMessage, options: object): void }).serveDir(data, options);
    console.log("serveDir did not throw");
  } catch (error) {
    console.log("serveDir threw " + String(error));
    ${reply};
  }`;
    const port = await freePort();
    const servers = [
      await serve(syncServer("", "{}", handler(`conn.reply(418, "refused")`))),
      await serve(`
import { AsyncManager, HttpMessage, MG_EV_HTTP_MSG } from "mongoose";
const am = new AsyncManager();
await am.start();
await am.listen("http://127.0.0.1:${port}", (conn, ev, data) => {
  if (ev !== MG_EV_HTTP_MSG || !(data instanceof HttpMessage)) return;
  ${handler(`conn.reply(418, "refused").catch(() => undefined)`)}
});
console.log("ready ${port}");
`),
    ];
    running.push(...servers.map((s) => s.fw));
    for (const { fw, port } of servers) {
      for (const query of ["", "?empty"]) expect(await get(port, secret + query)).toEqual({ status: 418, body: "refused" });
      const threw = () => fw.stdout().match(/^serveDir threw TypeError: /gm) ?? [];
      await eventually(() => threw().length >= 2);
      expect(threw()).toHaveLength(2);
      expect(fw.stdout()).not.toContain("serveDir did not throw");
    }
  } finally {
    fs.rmSync(path.dirname(secret), { recursive: true, force: true });
  }
});

// The public members of a class declared in a module, its inherited ones included:
// what its typings show a user. Connection and AsyncConnection share a base class.
function publicMembers(file: string, className: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, "tsconfig.json"), {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)); } });
  const program = ts.createProgram([file, ...config!.fileNames], config!.options);
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const found = new Set<string>();
  ts.forEachChild(source, (node) => {
    if (!ts.isClassDeclaration(node) || node.name?.text !== className) return;
    const type = checker.getDeclaredTypeOfSymbol(checker.getSymbolAtLocation(node.name)!);
    for (const property of checker.getPropertiesOfType(type)) {
      const member = property.declarations?.[0];
      const name = member && ts.getNameOfDeclaration(member);
      if (!member || !name || ts.isPrivateIdentifier(name)) continue;
      if (ts.getCombinedModifierFlags(member) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
      if (ts.getJSDocTags(member).some((tag) => tag.tagName.text === "internal")) continue;
      const text = name.getText(member.getSourceFile());
      if (!text.startsWith("_")) found.add(text);
    }
  });
  if (!found.size) throw new Error(`no class ${className} in ${file}`);
  return [...found].sort();
}

// The names in the README between <!-- begin NAME --> and <!-- end NAME -->: the
// first identifier (or [Symbol.x]) of each code span.
function readmeList(readme: string, name: string): string[] {
  const match = new RegExp(`<!-- begin ${name} -->([^]*?)<!-- end ${name} -->`).exec(readme);
  if (!match) throw new Error(`README.md has no "${name}" list`);
  return [...match[1].matchAll(/`(\[Symbol\.\w+\]|[A-Za-z_$][\w$]*)/g)].map((m) => m[1]).sort();
}

test("7. the README's list of AsyncConnection members, and of the Connection members it lacks, match the typings", () => {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const asyncMembers = publicMembers(path.join(ROOT, "modules/mongoose/async-connection.ts"), "AsyncConnection");
  const syncMembers = publicMembers(path.join(ROOT, "modules/mongoose/connection.ts"), "Connection");
  expect(readmeList(readme, "AsyncConnection members")).toEqual(asyncMembers);
  expect(readmeList(readme, "Connection members AsyncConnection lacks")).toEqual(syncMembers.filter((m) => !asyncMembers.includes(m)));
  expect(readme).not.toMatch(/AsyncConnection` has (every|all|the) (member|method)s? of `Connection`|`AsyncConnection` has the `Connection` members/);
});
