// SPDX-License-Identifier: MIT
// `npm start`: the demo firmware builds, serves its API on 8080, and stops on Ctrl-C.
import { spawn } from "child_process";
import path from "path";
import { expectDemoServes } from "./helpers/demo";
import { ROOT } from "./helpers/sim";

test("the demo firmware serves /api/status and /api/led and stops cleanly on SIGINT", async () => {
  const child = spawn(process.execPath, [path.join(ROOT, "firmware", "cli.mjs"), "run", "--quiet"], { cwd: ROOT });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    for (let i = 0; i < 600 && !/serving http/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(/serving http:\/\/127\.0\.0\.1:8080\/api\/status/);
    await expectDemoServes("http://127.0.0.1:8080");
  } finally {
    child.kill("SIGINT");
  }
  expect(await exited).toBe(130);
});
