// SPDX-License-Identifier: MIT
import { runMain } from "./helpers/sim";

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
});
