// SPDX-License-Identifier: MIT
// xsmg build: what it reports for broken apps (exit code 2 and a message naming
// the problem), its incremental bytecode step, and module resolution at run time.
import fs from "fs";
import path from "path";
import { buildApp, makeApp, runFirmware, writeFiles, xsmg } from "./helpers/sim";

function build(dir: string, ...extra: string[]) {
  return xsmg(["build", "--manifest", path.join(dir, "manifest.json"), "--out", path.join(dir, "out"), ...extra]);
}

const oneModule = JSON.stringify({ modules: { "*": ["./main"] } });

describe("build errors: exit code 2 and a message that names the problem", () => {
  test("a TypeScript type error names the .ts file, line and column", () => {
    const dir = makeApp({
      "manifest.json": oneModule,
      "main.ts": `const count: number = 1;\nconsole.log(count);\n\nconst label: string = count;\n`,
    });
    const r = build(dir, "--quiet");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("TypeScript errors");
    expect(r.stderr).toMatch(/main\.ts\(4,7\): error TS2322: Type 'number' is not assignable to type 'string'/);
  });

  test("the firmware's globals are typed: a wrong timer argument is a type error", () => {
    const dir = makeApp({ "manifest.json": oneModule, "main.ts": `setTimeout(() => {}, "soon");\n` });
    const r = build(dir, "--quiet");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/main\.ts\(1,22\): error TS(2345|2769)/);
  });
  test("a JavaScript syntax error in a .js module names the file and line", () => {
    const dir = makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main", "./legacy"] } }),
      "main.ts": `import "./legacy";\nconsole.log("main");\n`,
      "legacy.js": `// A module tsc does not check.\nexport const ok = 1;\nlet = = 2;\n`,
    });
    const r = build(dir, "--quiet");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('JavaScript errors in module "legacy"');
    expect(r.stderr).toContain(`${path.join(dir, "legacy.js")}:3: error`);
  });

  test("an unknown top-level manifest key is named", () => {
    const dir = makeApp({ "manifest.json": JSON.stringify({ modules: { "*": ["./main"] }, modlues: {} }), "main.ts": "" });
    const r = build(dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown key "modlues" in the manifest');
    expect(r.stderr).toContain(path.join(dir, "manifest.json"));
  });

  test("an unknown creation profile is named, with the known ones", () => {
    const dir = makeApp({ "manifest.json": JSON.stringify({ creation: "esp64", modules: { "*": ["./main"] } }), "main.ts": "" });
    const r = build(dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown creation profile "esp64" \(known: .*esp32.*\)/);
  });

  test("a module source that does not exist is named", () => {
    const dir = makeApp({ "manifest.json": JSON.stringify({ modules: { "*": ["./main", "./lib/missing"] } }), "main.ts": "" });
    const r = build(dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`module source not found: ${path.join(dir, "lib", "missing")}`);
  });

  // This test expected "the esp32 host is not yet supported" until xsmg build
  // --host esp32 generated an ESP-IDF project (test/esp32-project.test.ts).
  test("the esp32 host names the variants and targets it has", () => {
    const dir = makeApp({ "manifest.json": oneModule, "main.ts": "" });
    const variant = build(dir, "--host", "esp32", "--variant", "sanitize");
    expect(variant.code).toBe(2);
    expect(variant.stderr).toContain('unknown variant "sanitize" for esp32 (known: release)');
    const target = build(dir, "--host", "esp32", "--target", "esp8266");
    expect(target.code).toBe(2);
    expect(target.stderr).toContain('unknown target "esp8266" for esp32 (known: esp32, esp32s3, esp32c3)');
    const sim = build(dir, "--target", "esp32c3");
    expect(sim.code).toBe(2);
    expect(sim.stderr).toContain("--target is not used by the linux-sim host");
  });

  test("an unknown variant or option is refused with usage", () => {
    const dir = makeApp({ "manifest.json": oneModule, "main.ts": "" });
    const variant = build(dir, "--variant", "fast");
    expect(variant.code).toBe(2);
    expect(variant.stderr).toContain('unknown variant "fast"');
    const option = build(dir, "--optimize");
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('unknown option "--optimize" for xsmg build');
    expect(option.stderr).toContain("usage:");
  });
});

describe("TypeScript sees firmware modules as the engine does", () => {
  test("new Promise((resolve) => setTimeout(resolve, ms)) type-checks", () => {
    const dir = makeApp({
      "manifest.json": oneModule,
      "main.ts": `export {};\nawait new Promise((resolve) => setTimeout(resolve, 5));\nconst t = setInterval(() => {}, 5);\nawait new Promise((resolve) => setTimeout(resolve, 5, "value"));\nclearInterval(t);\n`,
    });
    const r = build(dir, "--quiet");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  // Every source is an ES module on the firmware, imports or not.
  test("modules without imports or exports have their own scope and may use top-level await", async () => {
    const dir = makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main", "./side"] } }),
      "main.ts": `const count = 1;\nawait null;\nconsole.log("main", count, typeof (globalThis as Record<string, unknown>).count);\n`,
      "side.ts": `const count = 2;\nconsole.log("side", count);\n`,
    });
    const r = build(dir, "--quiet");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const run = await runFirmware(path.join(dir, "out", "firmware"));
    expect(run.stdout).toBe("main 1 undefined\n");
  });
});

describe("incremental builds", () => {
  // The bytecode step's summary line: "  bytecode   0.01 s  1 compiled, 2 unchanged".
  function bytecodeStep(stderr: string): { compiled: number; unchanged: number } {
    const m = /^\s+bytecode\s+[\d.]+ s\s+(\d+) compiled, (\d+) unchanged$/m.exec(stderr);
    if (!m) throw new Error(`no bytecode step in:\n${stderr}`);
    return { compiled: Number(m[1]), unchanged: Number(m[2]) };
  }

  test("an unchanged app compiles no bytecode; changing one of two modules recompiles just that one, and another app's build takes the built-in modules' bytecode from the cache", async () => {
    const dir = makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main", "./other"] } }),
      "main.ts": `import { value } from "./other";\nconsole.log("value", value);\n`,
      "other.ts": `export const value = 1;\n`,
    });
    const first = build(dir);
    expect(first.code).toBe(0);
    // main and other, and the built-in modules the image includes, which an earlier
    // build may have compiled already (the cache holds bytecode by content).
    const { compiled, unchanged } = bytecodeStep(first.stderr);
    expect(compiled).toBeGreaterThanOrEqual(2);
    const all = compiled + unchanged;

    const second = build(dir);
    expect(second.code).toBe(0);
    expect(bytecodeStep(second.stderr)).toEqual({ compiled: 0, unchanged: all });

    writeFiles(dir, { "other.ts": `export const value = 2;\n` });
    const third = build(dir);
    expect(third.code).toBe(0);
    expect(bytecodeStep(third.stderr)).toEqual({ compiled: 1, unchanged: all - 1 });

    // And the rebuilt firmware runs the new code.
    const r = await runFirmware(path.join(dir, "out", "firmware"));
    expect(r.stdout).toBe("value 2\n");
    expect(r.code).toBe(0);

    // The same two modules in another folder are other files: compiled; the built-in ones are not.
    const copy = makeApp({
      "manifest.json": fs.readFileSync(path.join(dir, "manifest.json"), "utf8"),
      "main.ts": fs.readFileSync(path.join(dir, "main.ts"), "utf8"),
      "other.ts": fs.readFileSync(path.join(dir, "other.ts"), "utf8"),
    });
    const elsewhere = build(copy);
    expect(elsewhere.code).toBe(0);
    expect(bytecodeStep(elsewhere.stderr)).toEqual({ compiled: 2, unchanged: all - 2 });
  });

  test("the built-in modules' TypeScript is compiled once: another app takes it from the cache, and is checked against it", async () => {
    // "  typescript   1.20 s  1 checked, 31 built-in from the cache"
    const typescriptStep = (stderr: string) => {
      const m = /^\s+typescript\s+[\d.]+ s\s+(\d+) checked, (\d+) built-in (from the cache|compiled into the cache)$/m.exec(stderr);
      if (!m) throw new Error(`no typescript step in:\n${stderr}`);
      return { checked: Number(m[1]), builtin: Number(m[2]), from: m[3] };
    };
    const app = (main: string) => makeApp({ "manifest.json": oneModule, "main.ts": main });
    const first = build(app(`import { Manager } from "mongoose";\nconsole.log(typeof new Manager().poll);\n`));
    expect(first.code).toBe(0);
    const builtin = typescriptStep(first.stderr).builtin;
    expect(builtin).toBeGreaterThan(10);

    const dir = app(`import { AsyncManager } from "mongoose";\nconsole.log(typeof new AsyncManager().start);\n`);
    const second = build(dir);
    expect(second.code).toBe(0);
    expect(typescriptStep(second.stderr)).toEqual({ checked: 1, builtin, from: "from the cache" });
    const r = await runFirmware(path.join(dir, "out", "firmware"));
    expect(r.stdout).toBe("function\n");

    // A built-in's types still bind the app.
    const wrong = build(app(`import { Manager } from "mongoose";\nnew Manager().poll("soon");\n`));
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/main\.ts\(2,\d+\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number/);
  });
});

describe("bytecode of a release build", () => {
  // Its engine has no mxDebug and skips line records: the build leaves them out.
  test("carries no line records: smaller modules, rebuilt when the variant changes in the same folder", async () => {
    const dir = makeApp({
      "manifest.json": oneModule,
      "main.ts": Array.from({ length: 40 }, (_, i) => `let v${i} = ${i};\nv${i}++;\n`).join("") + `console.log("ran", v39);\n`,
    });
    const xmb = path.join(dir, "out", "xmb", "main.xmb");
    const debug = build(dir, "--variant", "debug");
    expect(debug.code).toBe(0);
    const debugSize = fs.statSync(xmb).size;
    const release = build(dir, "--variant", "release");
    expect(release.code).toBe(0);
    expect(release.stderr).toMatch(/^\s+bytecode\s+[\d.]+ s\s+[1-9]\d* compiled, \d+ unchanged$/m);
    // Three bytes per line record, at least one per statement (81 here).
    expect(debugSize - fs.statSync(xmb).size).toBeGreaterThanOrEqual(3 * 81);
    const r = await runFirmware(path.join(dir, "out", "firmware"));
    expect(r.stdout).toBe("ran 40\n");
    expect(r.code).toBe(0);
  });
});

describe("module resolution", () => {
  // tsc does not check .js modules: the build does, for static imports.
  test("a .js module importing a module that is not in the firmware fails the build, naming both", () => {
    const dir = makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main", "./loader"] } }),
      "main.ts": `import "./loader";\nconsole.log("main ran");\n`,
      "loader.js": `import { helper } from "./helpers/not-there";\nhelper();\n`,
    });
    expect(() => buildApp(dir)).toThrow(/module "loader" \(.*loader\.js\) imports "\.\/helpers\/not-there", which is not among the firmware's modules/);
  });

  test("a dynamic import of a missing module rejects with the module's name", async () => {
    const dir = makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main", "./loader"] } }),
      "main.ts": `import { load } from "./loader";\nload().catch((e: Error) => console.log("rejected:", e.message));\n`,
      "loader.js": `export function load() {\n  return import("./plugins/absent");\n}\n`,
      "loader.d.ts": `export function load(): Promise<unknown>;\n`,
    });
    const r = await runFirmware(buildApp(dir), ["--timeout", "10"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^rejected: .*plugins\/absent/);
  });

  test("a missing import behind a named import is named by the build", () => {
    const dir = makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main", "./loader"] } }),
      "main.ts": `import { go } from "./loader";\ngo();\n`,
      "loader.js": `import { helper } from "./helpers/not-there";\nexport function go() {\n  helper();\n}\n`,
      "loader.d.ts": `export function go(): void;\n`,
    });
    expect(() => buildApp(dir)).toThrow(/imports "\.\/helpers\/not-there"/);
  });
});
