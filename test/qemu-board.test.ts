// SPDX-License-Identifier: MIT
// The virtual board (hosts/qemu): hosts/esp32's port on FreeRTOS in
// qemu-system-riscv32 -M virt, with the simulator's exit codes. The engine,
// runtime, kernel and board are compiled once into build/cache/qemu-release;
// each app here only compiles its image and links. The board has one console
// (semihosting, as a board's UART): the firmware's stdout and stderr both arrive
// on xsmg's standard output, in order. Its network: test/qemu-net.test.ts.
import fs from "fs";
import os from "os";
import path from "path";
import { Files, lines, mainApp, runMain, xsmg } from "./helpers/sim";

function runOnBoard(source: string, extra: string[] = [], files: Files = {}) {
  const dir = mainApp(source, files, "esp32");
  return xsmg(["run", "--host", "qemu", "--quiet", "--timeout", "60", "--manifest", path.join(dir, "manifest.json"),
    "--out", path.join(dir, "out"), ...extra]);
}

describe("the virtual ESP32-C3 board (qemu)", () => {
  test("timers and a resolved promise print in order, and the firmware exits 0 when nothing is left", () => {
    const r = runOnBoard(`
      setTimeout(() => console.log("timer 30"), 30);
      setTimeout(() => console.log("timer 5"), 5);
      Promise.resolve(42).then((v) => console.log("promise " + v));
      console.log("start");
    `);
    expect({ code: r.code, console: lines(r.stdout), stderr: r.stderr }).toEqual({
      code: 0, console: ["start", "promise 42", "timer 5", "timer 30"], stderr: "",
    });
  }, 600_000);

  test("an uncaught exception prints its message and exits 1 (port_fatal ends QEMU with the code)", () => {
    const r = runOnBoard(`
      console.log("before");
      setTimeout(() => { throw new Error("boom from a timer"); }, 5);
    `);
    expect(r.code).toBe(1);
    const console = lines(r.stdout);
    expect(console[0]).toBe("before");
    expect(console[1]).toBe("xsmg: uncaught exception: Error: boom from a timer");
    expect(console[console.length - 1]).toBe("xsmg: restarting (code 1)");
  });

  test("allocating past the XS heap exits 3 with the out-of-memory reason", () => {
    const r = runOnBoard(`
      const kept: number[][] = [];
      for (;;) kept.push(new Array(1000).fill(1));
    `);
    expect(r.code).toBe(3);
    expect(lines(r.stdout)).toEqual([
      expect.stringMatching(/^xsmg: fatal: out of memory: the XS heap is full \(creation profile 'esp32': \d+ heap slots, \d+ chunk bytes, 512 stack slots\)$/),
      "xsmg: restarting (code 3)",
    ]);
  });

  // At --ram 192 the C library's heap is about 130 KiB: the esp32 profile's
  // slots and chunks alone are 154 KiB.
  test("a RAM budget too small for the creation profile is out of memory too (--ram 192)", () => {
    const r = runOnBoard(`console.log("never");`, ["--ram", "192"]);
    expect(r.code).toBe(3);
    expect(r.stdout).not.toContain("never");
    expect(r.stdout).toContain("xsmg: fatal: out of memory");
  });

  test("the config store runs on the board's NVS (in RAM): values of each type come back, a delete removes", () => {
    const r = runOnBoard(`
      import Config from "config";
      console.log(String(Config.get("app", "n")));
      Config.set("app", "n", 2147483648);
      Config.set("app", "s", "hé");
      Config.set("app", "b", new Uint8Array([0, 1, 255]));
      Config.set("app", "t", true);
      const b = Config.get("app", "b") as Uint8Array;
      console.log(Config.get("app", "n"), Config.get("app", "s"), Array.from(b).join(","), Config.get("app", "t"));
      console.log(Config.delete("app", "s"), Config.delete("app", "s"), String(Config.get("app", "s")));
    `);
    expect({ code: r.code, console: lines(r.stdout) }).toEqual({
      code: 0, console: ["undefined", "2147483648 hé 0,1,255 true", "true false undefined"],
    });
  });

  test("the app's own C is linked, and a CPU exception in it says where and exits 5", () => {
    const files = {
      "manifest.json": JSON.stringify({ creation: "esp32", modules: { "*": ["./main", "./crash"] } }),
      "crash.js": `export function crash() @ "app_crash";\n`,
      "crash.d.ts": `export function crash(): void;\n`,
      "crash.c": `#include "xsmc.h"\nvoid app_crash(xsMachine* the)\n{\n\t(void)the;\n\t__asm volatile(".word 0");\n}\n`,
    };
    const r = runOnBoard(`import { crash } from "./crash";\nconsole.log("crashing");\ncrash();\n`, [], files);
    expect(r.code).toBe(5);
    expect(lines(r.stdout)[0]).toBe("crashing");
    expect(lines(r.stdout)[1]).toMatch(/^xsmg: fatal: CPU exception 2 at pc 0x8[0-9a-f]{7} \(mtval 0x00000000\)$/);
  });

  test("a write to a constant (in the read-only flash region) is a CPU exception, exit 5, as on a device", () => {
    const files = {
      "manifest.json": JSON.stringify({ creation: "esp32", modules: { "*": ["./main", "./poke"] } }),
      "poke.js": `export function poke() @ "app_poke";\n`,
      "poke.d.ts": `export function poke(): void;\n`,
      "poke.c": `#include "xsmc.h"\nstatic const int locked = 1;\nvoid app_poke(xsMachine* the)\n{\n\t(void)the;\n` +
        `\t*(volatile int*)&locked = 2;\n\txsmcSetInteger(xsResult, locked);\n}\n`,
    };
    const r = runOnBoard(`import { poke } from "./poke";\nconsole.log("poking");\npoke();\nconsole.log("wrote");\n`, [], files);
    expect(r.code).toBe(5);
    // Cause 7: store access fault; mtval: the constant's address, in the 4 MiB flash region from 0x80000000.
    expect(lines(r.stdout)).toEqual(["poking", expect.stringMatching(/^xsmg: fatal: CPU exception 7 at pc 0x80[0-3][0-9a-f]{5} \(mtval 0x80[0-3][0-9a-f]{5}\)$/)]);
  });

  test("--stats prints the XS heap's use at exit, the simulator's lines, then the board's RAM", async () => {
    const app = `console.log("done");`;
    const sim = await runMain(app, { creation: "esp32", args: ["--stats"] });
    // The simulator's stats lines, each up to its first figure (so that a change of format is followed here).
    const prefixes = lines(sim.stderr).filter((l) => /\d/.test(l)).map((l) => l.slice(0, l.search(/\d/)));
    expect(prefixes.length).toBeGreaterThan(0);
    const r = runOnBoard(app, ["--stats"]);
    expect(r.code).toBe(0);
    const console = lines(r.stdout);
    expect(console[0]).toBe("done");
    expect(console.slice(1, -1).map((l) => l.slice(0, l.search(/\d/)))).toEqual(prefixes);
    expect(console.slice(1, -1).join("\n")).toMatch(/slots=[1-9]\d*\/\d+/);
    // Each task once, whether it was deleted during the run (the link wraps vTaskDelete) or not.
    expect(console[console.length - 1]).toMatch(/^board-ram: heap=\d+\/\d+ heap-used=\d+ stack-unused=([\w-]+:\d+,)*[\w-]+:\d+$/);
    const tasks = console[console.length - 1].replace(/^.*stack-unused=/, "").split(",").map((t) => t.split(":")[0]);
    expect(tasks).toEqual(expect.arrayContaining(["main", "xs", "IDLE", "tcpip_thread", "virtio-net"]));
    expect(new Set(tasks).size).toBe(tasks.length);
    expect(lines(runOnBoard(app).stdout)).toEqual(["done"]);
  });

  test("instrumentation on the board: System Free Memory is its heap's free part, Network Sockets counts lwIP's sockets", () => {
    const r = runOnBoard(`
      import Instrumentation from "instrumentation";
      import { Manager } from "mongoose";
      const read = (name: string) => Instrumentation.get(Instrumentation.map(name)!)!;
      const before = { free: read("System Free Memory"), sockets: read("Network Sockets") };
      const mgr = new Manager();
      mgr.listen("http://0.0.0.0:80");
      mgr.listen("udp://0.0.0.0:9999");
      const open = { free: read("System Free Memory"), sockets: read("Network Sockets") };
      mgr.close();
      console.log(JSON.stringify({ before, open, closed: { sockets: read("Network Sockets") } }));
    `, ["--stats"]);
    expect(r.code).toBe(0);
    const console = lines(r.stdout);
    const got = JSON.parse(console[0]);
    const [, peak, size, used] = /^board-ram: heap=(\d+)\/(\d+) heap-used=(\d+) /.exec(console[console.length - 1])!.map(Number);
    expect(peak).toBeGreaterThan(0);
    // Free is the heap less what is allocated: at most the heap, and at least what is free at exit less what the run held then.
    expect(got.before.free).toBeLessThan(size);
    expect(got.before.free).toBeGreaterThan(size - used - 256 * 1024);
    // Two listeners: two lwIP sockets more (and their connections' memory gone from the heap); closed, none.
    expect(got.open.sockets).toBe(got.before.sockets + 2);
    expect(got.open.free).toBeLessThan(got.before.free);
    expect(got.closed.sockets).toBe(got.before.sockets);
  });

  test("--config FILE keeps the board's NVS across runs; a file that is not a store stops the boot with exit 2", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-board-config-"));
    try {
      // A space and a comma in the path: both travel on the semihosting command line.
      const file = path.join(dir, "my store, 1.cfg");
      const app = `
        import Config from "config";
        const boots = ((Config.get("app", "boots") as number | undefined) ?? 0) + 1;
        console.log("boots " + boots + " " + String(Config.get("app", "s")) + " " + String(Config.get("app", "b")) + " " + String(Config.get("app", "f")) + " " + String(Config.get("net", "t")));
        Config.set("app", "boots", boots);
        Config.set("app", "s", "hé, there");
        Config.set("app", "b", new Uint8Array([0, 1, 255]));
        Config.set("app", "f", -1.5);
        Config.set("net", "t", true);
        Config.set("net", "t", false);
      `;
      const first = runOnBoard(app, ["--config", file]);
      expect({ code: first.code, console: lines(first.stdout) }).toEqual({ code: 0, console: ["boots 1 undefined undefined undefined undefined"] });
      expect(fs.readFileSync(file, "utf8").split("\n")[0]).toBe("xsmg-nvs 1");
      const second = runOnBoard(app, ["--config", file]);
      expect({ code: second.code, console: lines(second.stdout) }).toEqual({ code: 0, console: ["boots 2 hé, there 0,1,255 -1.5 false"] });
      expect(lines(runOnBoard(app).stdout)).toEqual(["boots 1 undefined undefined undefined undefined"]);
      fs.writeFileSync(file, "xsmg-nvs 1\napp boots i32 zz\n");
      const bad = runOnBoard(app, ["--config", file]);
      expect({ code: bad.code, console: lines(bad.stdout) }).toEqual({
        code: 2, console: [`xsmg: fatal: config file ${file}: line 2 is not what the board writes ("xsmg-nvs 1", then <namespace> <key> <type> <hex>)`],
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("--timeout stops a firmware that never finishes with 124, from inside as the simulator does (--stats still printed)", () => {
    const r = runOnBoard(`setInterval(() => {}, 1000);\nconsole.log("forever");\n`, ["--timeout", "1", "--stats"]);
    // (the later --timeout wins over runOnBoard's 60)
    expect(r.code).toBe(124);
    const console = lines(r.stdout);
    expect(console.slice(0, 2)).toEqual(["forever", "xsmg: run time limit reached, stopping"]);
    expect(console[console.length - 2]).toMatch(/^xs-ram: boot=\d+ peak=\d+ slots=\d+\/\d+ chunks=\d+\/\d+$/);
    expect(console[console.length - 1]).toMatch(/^board-ram: /);
    expect(r.stderr).toBe("");
  });

  test("a firmware stuck in its own C past --timeout is killed by xsmg a few seconds later, still 124", () => {
    const files = {
      "manifest.json": JSON.stringify({ creation: "esp32", modules: { "*": ["./main", "./spin"] } }),
      "spin.js": `export function spin() @ "app_spin";\n`,
      "spin.d.ts": `export function spin(): void;\n`,
      "spin.c": `#include "xsmc.h"\nvoid app_spin(xsMachine* the)\n{\n\t(void)the;\n\tfor (volatile int i = 0;; i++)\n\t\t;\n}\n`,
    };
    const started = Date.now();
    const r = runOnBoard(`import { spin } from "./spin";\nconsole.log("spinning");\nspin();\n`, ["--timeout", "1"], files);
    expect(r.code).toBe(124);
    expect(lines(r.stdout)).toEqual(["spinning", "xsmg: run time limit reached, stopping"]);
    expect(r.stderr).toBe("xsmg: run time limit reached, stopping\n");
    expect(Date.now() - started).toBeGreaterThan(4000);
  });
});
