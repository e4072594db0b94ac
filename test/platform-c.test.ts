// SPDX-License-Identifier: MIT
// The platform layer's C unit tests (test/c): port_linux.c and the run loop,
// under ASan + UBSan and, when installed, valgrind. See test/c/run.mjs.
import { spawn } from "node:child_process";
import path from "node:path";

function runCTests(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, "c", "run.mjs")], {
      cwd: path.join(__dirname, ".."),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("platform layer (C)", () => {
  test("C unit tests pass under the sanitizers and valgrind", async () => {
    const { code, output } = await runCTests();
    const summaries = output.match(/^\d+ passed, \d+ failed$/gm) ?? [];
    // On failure, show the whole log: which check failed, or the sanitizer report.
    if (code !== 0 || summaries.length === 0 || summaries.some((s) => !s.endsWith(" 0 failed")))
      console.log(output);
    expect(code).toBe(0);
    expect(output).toContain("0 failed");
    expect(summaries.length).toBeGreaterThan(0);
    for (const s of summaries) expect(s).toMatch(/^[1-9]\d* passed, 0 failed$/);
  }, 180_000);
});
