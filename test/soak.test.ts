// SPDX-License-Identifier: MIT
// The soak (bench/soak/run.mjs) in its short form: 200,000 requests, keep-alive
// HTTP, connection-per-request HTTP and WebSocket echo, against a release
// firmware in the fixed-size esp32 heap, checked answer by answer; it fails on XS
// heap or RSS growth after the warm-up, on any error, and on the firmware's exit.
// A second run with the driver's deliberate leak shows that it does fail.
import { spawn } from "child_process";
import path from "path";
import { ROOT } from "./helpers/sim";

const REQUESTS = 200_000;

function soak(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bench", "soak", "run.mjs"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, out }));
  });
}

describe("soak", () => {
  it(`answers ${REQUESTS} mixed requests in a fixed heap without growth`, async () => {
    const r = await soak(["--requests", String(REQUESTS), "--heap", "fixed"]);
    expect(r.out).toContain("verdict: ok, no growth");
    expect(r.out).toContain(`100%: ${REQUESTS} requests`);
    expect(r.code).toBe(0);
  }, 600_000);

  it("fails when the app keeps 16 bytes of every request: the fixed heap runs out", async () => {
    const r = await soak(["--requests", "20000", "--heap", "fixed", "--leak", "16"]);
    expect(r.out).toContain("verdict: FAIL");
    expect(r.out).toMatch(/the firmware exited \(3\) after \d+ requests had been sent: xsmg: fatal: out of memory/);
    expect(r.code).toBe(1);
  }, 300_000);
});
