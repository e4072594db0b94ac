// SPDX-License-Identifier: MIT
// How a firmware fails: uncaught exceptions and rejections (exit 1, with a stack
// that points into the .ts sources), a full XS heap (exit 3), stack overflow
// (exit 4), and the missing parser (eval throws a TypeError).
import { RunResult, buildApp, lines, mainApp, runFirmware, runMain } from "./helpers/sim";

const LIMIT = ["--timeout", "10"];

function run(source: string, creation?: string, variant?: string): Promise<RunResult> {
  return runMain(source, { creation, variant, args: LIMIT });
}

describe("uncaught errors stop the firmware with exit code 1", () => {
  test("an exception thrown in a timer callback: message and a stack into the .ts file", async () => {
    // Types and interfaces above the throw make the .ts lines differ from the emitted .js lines.
    const r = await run(`interface Reading {
  value: number;
  unit: string;
}

type Handler = (r: Reading) => void;

const handlers: Handler[] = [];

function check(r: Reading): void {
  if (r.value > 100)
    throw new Error(\`reading too high: \${r.value}\${r.unit}\`);
}

handlers.push(check);
console.log("armed");
setTimeout(() => {
  for (const h of handlers) h({ value: 120, unit: "C" });
}, 10);
setTimeout(() => console.log("a later timer must not run"), 200);
`);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("armed\n");
    const err = r.stderr.split("\n");
    expect(err[0]).toBe("xsmg: uncaught exception: Error: reading too high: 120C");
    expect(err[1]).toMatch(/^ at check \(\/.*\/main\.ts:12\)$/);
    expect(err[2]).toMatch(/^ at .*\(\/.*\/main\.ts:18\)$/);
  });

  test("an exception thrown by a callback given to setInterval, with a non-Error value", async () => {
    const r = await run(`
      let n = 0;
      setInterval(() => {
        if (++n === 2) throw { code: 7, reason: "plain object" };
        console.log("tick", n);
      }, 5);
    `);
    expect(r.code).toBe(1);
    expect(lines(r.stdout)).toEqual(["tick 1"]);
    expect(r.stderr).toBe('xsmg: uncaught exception: {"code":7,"reason":"plain object"}\n');
  });

  test("an unhandled promise rejection, also from an async timer callback", async () => {
    const fromMain = await run(`
      console.log("start");
      Promise.reject(new Error("rejected at boot"));
      setTimeout(() => console.log("a timer after the rejection must not run"), 50);
    `);
    expect(fromMain.code).toBe(1);
    expect(fromMain.stdout).toBe("start\n");
    expect(fromMain.stderr).toMatch(/^xsmg: unhandled rejection: Error: rejected at boot\n at .*main\.ts:3\)/);

    const fromTimer = await run(`
      async function load(): Promise<number> {
        await new Promise((resolve) => setTimeout(resolve, 5));
        throw new TypeError("bad payload");
      }
      setTimeout(async () => {
        console.log("loading");
        await load();
        console.log("not reached");
      }, 5);
    `);
    expect(fromTimer.code).toBe(1);
    expect(lines(fromTimer.stdout)).toEqual(["loading"]);
    expect(fromTimer.stderr).toMatch(/^xsmg: unhandled rejection: TypeError: bad payload\n at load \(.*main\.ts:4\)/);
  });

  test("a rejection handled before the turn ends is not reported", async () => {
    const r = await run(`
      const p = Promise.reject(new Error("handled later in the same turn"));
      Promise.resolve().then(() => p.catch((e) => console.log("caught:", e.message)));
      setTimeout(() => console.log("still running"), 10);
    `);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(["caught: handled later in the same turn", "still running"]);
  });

  test("a throw at the top level of main", async () => {
    const r = await run(`
      console.log("before");
      setTimeout(() => console.log("a timer set before the throw must not run"), 0);
      if (Date.now() > 0) throw new Error("top level failure");
      console.log("after");
    `);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("before\n");
    expect(r.stderr).toMatch(/^xsmg: uncaught exception in main module: Error: top level failure\n at .*main\.ts:4\)/);
  });
});

describe("resource limits", () => {
  test("an esp32 app that keeps allocating runs out of XS heap: exit code 3", async () => {
    const r = await run(
      `
      const keep: object[] = [];
      console.log("allocating");
      setInterval(() => {
        for (let i = 0; i < 200; i++) keep.push({ i, text: "item " + i });
      }, 0);
    `,
      "esp32",
    );
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("allocating\n");
    expect(r.stderr).toContain("out of memory: the XS heap is full");
    expect(r.stderr).toContain("creation profile 'esp32'");
  });

  test("the same allocation fits the desktop profile", async () => {
    const r = await run(`
      const keep: object[] = [];
      let rounds = 0;
      const t = setInterval(() => {
        for (let i = 0; i < 200; i++) keep.push({ i, text: "item " + i });
        if (++rounds === 50) {
          clearInterval(t);
          console.log("kept", keep.length);
        }
      }, 0);
    `);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("kept 10000\n");
  });

  const recursion = `
    function down(n: number): number {
      return down(n + 1) + 1;
    }
    console.log("recursing");
    try {
      down(0);
    } catch (e) {
      console.log("caught", String(e));
    }
  `;

  test.each(["desktop", "esp32"])("unbounded recursion is a fatal stack overflow: exit code 4 (%s)", async (creation) => {
    const r = await run(recursion, creation);
    expect(r.signal).toBe(null);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe("recursing\n");
    expect(r.stderr).toMatch(new RegExp(`^xsmg: fatal: stack overflow \\(creation profile '${creation}'`));
  });

  // Without mxDebug the engine checks its stack only with mxBoundsCheck, which the
  // release variant defines (firmware/cmake/variant.cmake): a crash here would be
  // memory corruption on a device.
  test("release variant: unbounded recursion is a stack overflow, not a crash", async () => {
    const r = await run(recursion, "esp32", "release");
    expect(r.signal).toBe(null);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("stack overflow");
  });
});

describe("no parser in the firmware", () => {
  test("eval and new Function throw a TypeError saying modules are compiled ahead of time", async () => {
    const r = await run(`
      for (const attempt of [() => eval("1"), () => new Function("return 1"), () => (0, eval)("2")]) {
        try {
          console.log("no error:", attempt());
        } catch (e) {
          console.log(e instanceof TypeError, (e as Error).message);
        }
      }
    `);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out).toHaveLength(3);
    for (const line of out) {
      expect(line).toMatch(/^true /);
      expect(line).toContain("compiled ahead of time");
    }
  });
});

// The engine's debug builds can report every throw with printf; that must not reach
// the app's stdout (runtime/xm_platform.h defines mxNoConsole).
test("caught exceptions write nothing to stdout in debug builds", async () => {
  const exe = buildApp(mainApp(`
    try {
      JSON.parse("{ not json");
    } catch {
      console.log("caught");
    }
    try {
      throw new Error("thrown by the app");
    } catch (e) {
      console.log("caught", (e as Error).message);
    }
    console.log("end");
  `));
  const r = await runFirmware(exe, LIMIT);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe("caught\ncaught thrown by the app\nend\n");
  expect(r.stderr).toBe("");
});
