// SPDX-License-Identifier: MIT
// The config store (modules/config) through real firmware in the simulator:
// values round-trip by type, survive a restart, names and sizes are refused
// with NVS's limits, and a corrupt store file is reported and left alone.
import fs from "fs";
import path from "path";
import { CLI, TEST_VARIANT, buildApp, lines, mainApp, runFirmware, start } from "./helpers/sim";

// Prints each step's outcome as one JSON line: its value, or the error it threw.
const TRY = `
function attempt(label: string, f: () => unknown): void {
  let out: unknown;
  try {
    const v = f();
    out = v instanceof Uint8Array ? { bytes: Array.from(v) } : typeof v === "number" ? { number: Object.is(v, -0) ? "-0" : String(v) } : { value: v };
  } catch (e) {
    out = { error: e instanceof Error ? \`\${e.name}: \${e.message}\` : String(e) };
  }
  console.log(JSON.stringify({ label, ...(out as object) }));
}
`;

type Outcome = { label: string; value?: unknown; number?: string; bytes?: number[]; error?: string };

function outcomes(stdout: string): Record<string, Outcome> {
  return Object.fromEntries(lines(stdout).map((l) => JSON.parse(l) as Outcome).map((o) => [o.label, o]));
}

async function run(exe: string, store: string): Promise<Record<string, Outcome>> {
  const r = await runFirmware(exe, ["--config", store]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return outcomes(r.stdout);
}

describe("config store", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(require("os").tmpdir(), "xsmg-config-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("values round-trip by type, replace each other, and delete", async () => {
    const exe = buildApp(mainApp(`import Config from "config";
${TRY}
const numbers = [0, -0, 1, -1, 2147483647, -2147483648, 2147483648, 1.5, -1e-300, 2 ** 53 + 2, Number.MAX_VALUE, Infinity, -Infinity, NaN];
numbers.forEach((n, i) => attempt("n" + i, () => (Config.set("num", "n" + i, n), Config.get("num", "n" + i))));
attempt("empty string", () => (Config.set("str", "empty", ""), Config.get("str", "empty")));
attempt("text", () => (Config.set("str", "text", "héllo %20 wörld 🙂\\n\\t end"), Config.get("str", "text")));
attempt("true", () => (Config.set("bool", "t", true), Config.get("bool", "t")));
attempt("false", () => (Config.set("bool", "f", false), Config.get("bool", "f")));
attempt("bytes", () => (Config.set("bin", "b", new Uint8Array([0, 1, 127, 128, 255])), Config.get("bin", "b")));
attempt("empty bytes", () => (Config.set("bin", "e", new Uint8Array(0)), Config.get("bin", "e")));
attempt("subarray", () => (Config.set("bin", "s", new Uint8Array([9, 8, 7, 6]).subarray(1, 3)), Config.get("bin", "s")));
attempt("same key, other namespace", () => (Config.set("other", "t", "x"), Config.get("bool", "t")));
attempt("retyped", () => (Config.set("bool", "f", "now a string"), Config.get("bool", "f")));
attempt("absent", () => Config.get("nothing", "here"));
attempt("delete", () => Config.delete("str", "text"));
attempt("deleted", () => Config.get("str", "text"));
attempt("delete again", () => Config.delete("str", "text"));
attempt("longest names", () => (Config.set("n23456789012345", "k23456789012345", 1), Config.get("n23456789012345", "k23456789012345")));
attempt("longest string", () => (Config.set("str", "long", "é".repeat(1999) + "x"), (Config.get("str", "long") as string).length));
attempt("longest bytes", () => (Config.set("bin", "long", new Uint8Array(4000).fill(7)), (Config.get("bin", "long") as Uint8Array).length));
`));
    const store = path.join(dir, "roundtrip.config");
    const o = await run(exe, store);
    const expected = ["0", "-0", "1", "-1", "2147483647", "-2147483648", "2147483648", "1.5", "-1e-300", String(2 ** 53 + 2),
      String(Number.MAX_VALUE), "Infinity", "-Infinity", "NaN"];
    expected.forEach((n, i) => expect(o["n" + i]).toEqual({ label: "n" + i, number: n }));
    expect(o["empty string"].value).toBe("");
    expect(o["text"].value).toBe("héllo %20 wörld 🙂\n\t end");
    expect([o["true"].value, o["false"].value]).toEqual([true, false]);
    expect(o["bytes"].bytes).toEqual([0, 1, 127, 128, 255]);
    expect(o["empty bytes"].bytes).toEqual([]);
    expect(o["subarray"].bytes).toEqual([8, 7]);
    expect(o["same key, other namespace"].value).toBe(true);
    expect(o["retyped"].value).toBe("now a string");
    expect(o["absent"]).toEqual({ label: "absent" });
    expect([o["delete"].value, o["deleted"].value, o["delete again"].value]).toEqual([true, undefined, false]);
    expect(o["longest names"].number).toBe("1");
    expect(o["longest string"].number).toBe("2000");
    expect(o["longest bytes"].number).toBe("4000");
    const text = fs.readFileSync(store, "utf8");
    expect(text.split("\n")[0]).toBe("xsmg-config 1");
    expect(fs.existsSync(store + ".tmp")).toBe(false);
  });

  test("values persist across two runs of the firmware; each change replaces the file by rename", async () => {
    const writer = buildApp(mainApp(`import Config from "config";
Config.set("app", "boots", 1);
Config.set("app", "name", "dev-1");
Config.set("app", "gone", true);
Config.delete("app", "gone");
Config.set("app", "key", new Uint8Array([1, 2, 3]));
`));
    const reader = buildApp(mainApp(`import Config from "config";
${TRY}
attempt("boots", () => Config.get("app", "boots"));
attempt("name", () => Config.get("app", "name"));
attempt("gone", () => Config.get("app", "gone"));
attempt("key", () => Config.get("app", "key"));
attempt("bump", () => (Config.set("app", "boots", (Config.get("app", "boots") as number) + 1), Config.get("app", "boots")));
`));
    const store = path.join(dir, "persist.config");
    await run(writer, store);
    const before = fs.statSync(store).ino;
    const o = await run(reader, store);
    expect(o).toEqual({
      boots: { label: "boots", number: "1" },
      name: { label: "name", value: "dev-1" },
      gone: { label: "gone" },
      key: { label: "key", bytes: [1, 2, 3] },
      bump: { label: "bump", number: "2" },
    });
    expect(fs.statSync(store).ino).not.toBe(before);
    expect((await run(reader, store)).boots.number).toBe("2");
  });

  test("names and values beyond NVS's limits are refused with errors that name the key", async () => {
    const exe = buildApp(mainApp(`import Config from "config";
${TRY}
const C = Config as unknown as { get(...a: unknown[]): unknown; set(...a: unknown[]): unknown; delete(...a: unknown[]): unknown };
attempt("long key", () => C.set("app", "k234567890123456", 1));
attempt("long namespace", () => C.get("n234567890123456", "k"));
attempt("empty key", () => C.delete("app", ""));
attempt("space", () => C.set("app", "a b", 1));
attempt("non-ASCII", () => C.set("app", "clé", 1));
attempt("key not a string", () => C.get("app", 7));
attempt("too few arguments", () => C.set("app", "k"));
attempt("undefined", () => C.set("app", "k", undefined));
attempt("null", () => C.set("app", "k", null));
attempt("object", () => C.set("app", "k", { a: 1 }));
attempt("ArrayBuffer", () => C.set("app", "k", new ArrayBuffer(2)));
attempt("Uint16Array", () => C.set("app", "k", new Uint16Array(2)));
attempt("long string", () => C.set("app", "k", "x".repeat(4000)));
attempt("NUL", () => C.set("app", "k", "a\\u0000b"));
attempt("lone surrogate", () => C.set("app", "k", "a\\ud800b"));
attempt("long bytes", () => C.set("app", "k", new Uint8Array(4001)));
attempt("nothing stored", () => C.get("app", "k"));
`));
    const store = path.join(dir, "limits.config");
    const o = await run(exe, store);
    const error = (label: string) => o[label].error;
    expect(error("long key")).toBe('RangeError: config key "k234567890123456" is 16 bytes long; NVS allows at most 15');
    expect(error("long namespace")).toBe('RangeError: config namespace "n234567890123456" is 16 bytes long; NVS allows at most 15');
    expect(error("empty key")).toBe("RangeError: the config key is empty; NVS names have 1 to 15 characters");
    expect(error("space")).toBe("RangeError: config key \"a b\" has a character other than ASCII '!' to '~' at offset 1");
    expect(error("non-ASCII")).toMatch(/^RangeError: config key "clé" has a character other than ASCII/);
    expect(error("key not a string")).toBe("TypeError: the config key must be a string");
    expect(error("too few arguments")).toBe("TypeError: Config.set(namespace, key, value) needs 3 arguments");
    for (const label of ["undefined", "null", "object", "ArrayBuffer", "Uint16Array"])
      expect(error(label)).toBe('TypeError: config value "app/k": not storable (strings, numbers, booleans and Uint8Array only)');
    expect(error("long string")).toBe('RangeError: config value "app/k": the string is 4000 bytes of UTF-8; an NVS string holds at most 3999');
    expect(error("NUL")).toMatch(/^TypeError: config value "app\/k": the string contains U\+0000, which an NVS string cannot hold/);
    expect(error("lone surrogate")).toMatch(/^TypeError: config value "app\/k": the string contains a lone surrogate/);
    expect(error("long bytes")).toBe('RangeError: config value "app/k": the Uint8Array has 4001 bytes; at most 4000 are stored');
    expect(o["nothing stored"]).toEqual({ label: "nothing stored" });
    expect(fs.existsSync(store)).toBe(false);
  });

  test("a corrupt store file is reported with its path and line, and never rewritten", async () => {
    const exe = buildApp(mainApp(`import Config from "config";
${TRY}
attempt("get", () => Config.get("app", "a"));
attempt("set", () => Config.set("app", "a", 2));
attempt("delete", () => Config.delete("app", "a"));
`));
    const cases: [string, string, string][] = [
      ["bad-type.config", "xsmg-config 1\napp a n 1\napp b q 2\n", "line 3 has an unknown type (s, n, b or x expected)"],
      ["truncated.config", "xsmg-config 1\napp a s hel", "line 2 has a last line without its newline (a truncated file?)"],
      ["header.config", "{\"app\": {\"a\": 1}}\n", 'line 1 has not the header "xsmg-config 1"'],
      ["empty.config", "", 'line 1 has nothing (not even the header "xsmg-config 1")'],
      ["twice.config", "xsmg-config 1\napp a n 1\napp a n 2\n", "line 3 has a key set twice"],
      ["number.config", "xsmg-config 1\napp a n 12abc\n", "line 2 has a malformed number"],
      ["escape.config", "xsmg-config 1\napp a s 100%\n", "line 2 has a malformed %XX escape"],
    ];
    for (const [name, text, problem] of cases) {
      const store = path.join(dir, name);
      fs.writeFileSync(store, text);
      const o = await run(exe, store);
      const message = `Error: config store ${store} is corrupt, left as it is: ${problem}`;
      expect({ name, get: o.get.error, set: o.set.error, delete: o.delete.error }).toEqual({ name, get: message, set: message, delete: message });
      expect(fs.readFileSync(store, "utf8")).toBe(text);
    }
  });

  test("without --config the store is the firmware's path plus .config", async () => {
    const exe = buildApp(mainApp(`import Config from "config";
Config.set("app", "where", "beside");
`));
    fs.rmSync(exe + ".config", { force: true });
    const r = await runFirmware(exe);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(exe + ".config", "utf8")).toBe("xsmg-config 1\napp where s beside\n");
  });

  test("a store that cannot be written is reported and the old one is kept", async () => {
    const exe = buildApp(mainApp(`import Config from "config";
${TRY}
attempt("set", () => Config.set("app", "a", 2));
attempt("get", () => Config.get("app", "a"));
`));
    const store = path.join(dir, "blocked.config");
    fs.writeFileSync(store, "xsmg-config 1\napp a n 1\n");
    // A folder where the new copy goes: it cannot be written, even by root.
    fs.mkdirSync(store + ".tmp");
    const o = await run(exe, store);
    expect(o.set.error).toBe(`Error: cannot write the config store ${store}.tmp: Is a directory`);
    expect(o.get.number).toBe("1");
    expect(fs.readFileSync(store, "utf8")).toBe("xsmg-config 1\napp a n 1\n");
  });
  test("xsmg run --config FILE keeps the store in that file", async () => {
    const app = mainApp(`import Config from "config";\nConfig.set("app", "greeting", "hi");\nconsole.log(Config.get("app", "greeting"));\n`);
    const store = path.join(dir, "run-option.config");
    const r = await start(process.execPath, [CLI, "run", "--quiet", "--variant", TEST_VARIANT, "--manifest", path.join(app, "manifest.json"), "--config", store], 120000).done;
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: "hi\n" });
    expect(fs.readFileSync(store, "utf8")).toContain("greeting");
  });
});
