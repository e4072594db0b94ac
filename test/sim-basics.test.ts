// SPDX-License-Identifier: MIT
import { buildApp, mainApp, runFirmware, runMain } from "./helpers/sim";

describe("simulator basics", () => {
  test("console output goes to stdout and stderr, and the firmware exits 0 when idle", async () => {
    const r = await runMain(`
      console.log("hello", 42, { a: [1, 2] }, null, undefined, true);
      console.warn("careful");
      console.error("bad", new Error("shown with its message"));
      trace("no newline");
    `);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hello 42 {"a":[1,2]} null undefined true\nno newline');
    expect(r.stderr).toMatch(/^careful\nbad Error: shown with its message/);
  });

  test("Math.random draws a different sequence on each boot (seeded from the host's entropy)", async () => {
    const exe = buildApp(mainApp(`console.log(JSON.stringify([Math.random(), Math.random(), Math.random()]));`));
    const [a, b] = await Promise.all([runFirmware(exe, []), runFirmware(exe, [])]);
    const draws = [a, b].map((r) => JSON.parse(r.stdout) as number[]);
    for (const x of draws.flat()) expect(x >= 0 && x < 1).toBe(true);
    expect(draws[0]).not.toEqual(draws[1]);
  });
});
