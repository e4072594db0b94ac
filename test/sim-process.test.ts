// SPDX-License-Identifier: MIT
// The firmware as a process: run time limit, `xsmg run` (exit codes, signals),
// and an idle firmware's CPU use.
import fs from "fs";
import path from "path";
import http from "http";
import { CLI, buildApp, mainApp, runFirmware, start } from "./helpers/sim";
import { freePort } from "./helpers/net";
import { request } from "./helpers/http";

// One app for the long-running cases: prints a line, then ticks forever.
const forever = `
  console.log("up");
  let ticks = 0;
  setInterval(() => ticks++, 50);
`;

describe("run time limit", () => {
  test("--timeout stops a firmware with a pending interval: exit code 124", async () => {
    const exe = buildApp(mainApp(forever));
    const started = performance.now();
    const r = await runFirmware(exe, ["--timeout", "1"], 20000);
    const ms = performance.now() - started;
    expect(r.code).toBe(124);
    expect(r.stdout).toBe("up\n");
    expect(r.stderr).toBe("xsmg: run time limit reached, stopping\n");
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(5000);
  });

  test("the firmware rejects unknown arguments with its usage: exit code 2", async () => {
    const exe = buildApp(mainApp(`console.log("must not run");`));
    const r = await runFirmware(exe, ["--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^usage: firmware/);
  });
});

describe("xsmg run", () => {
  test("builds and runs an app outside the repo, forwarding the firmware's exit code", async () => {
    const ok = mainApp(`setTimeout(() => console.log("ran from", "outside"), 5);`);
    const good = await start(process.execPath, [CLI, "run", "--quiet", "--manifest", path.join(ok, "manifest.json")]).done;
    expect(good.stderr).toBe("");
    expect(good.stdout).toBe("ran from outside\n");
    expect(good.code).toBe(0);
    // The default output folder is the app's own build folder.
    expect(fs.existsSync(path.join(ok, "build", "linux-sim", "debug", "firmware"))).toBe(true);

    const failing = mainApp(`setTimeout(() => { throw new Error("failing app"); }, 5);`);
    const bad = await start(process.execPath, [CLI, "run", "--quiet", "--manifest", path.join(failing, "manifest.json")]).done;
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^xsmg: uncaught exception: Error: failing app/);
  });

  test("xsmg run --timeout passes the limit to the firmware: exit code 124", async () => {
    const dir = mainApp(forever);
    const r = await start(process.execPath, [CLI, "run", "--quiet", "--timeout", "1", "--manifest", path.join(dir, "manifest.json")]).done;
    expect(r.stdout).toBe("up\n");
    expect(r.stderr).toContain("run time limit reached");
    expect(r.code).toBe(124);
  });

  test("SIGINT to xsmg run stops the firmware: exit code 130", async () => {
    const dir = mainApp(forever);
    // Built beforehand so that the run below is only the CLI's own build check and the firmware.
    buildApp(dir);
    const manifest = path.join(dir, "manifest.json");

    // As a process manager would: the signal goes to xsmg alone.
    const alone = start(process.execPath, [CLI, "run", "--quiet", "--manifest", manifest], 10000);
    expect(await alone.firstLine).toBe("up");
    alone.child.kill("SIGINT");
    const r = await alone.done;
    expect(r.signal).toBe(null);
    expect(r.code).toBe(130);

    // As a terminal's Ctrl-C does: the signal goes to the whole process group.
    const group = start(process.execPath, [CLI, "run", "--quiet", "--manifest", manifest], 10000);
    expect(await group.firstLine).toBe("up");
    process.kill(-group.child.pid!, "SIGINT");
    const g = await group.done;
    expect(g.signal).toBe(null);
    expect(g.code).toBe(130);
  });

  test("SIGTERM to the firmware stops it: exit code 143", async () => {
    const exe = buildApp(mainApp(forever));
    const running = start(exe, [], 20000);
    expect(await running.firstLine).toBe("up");
    running.child.kill("SIGTERM");
    const r = await running.done;
    expect(r.code).toBe(143);
  });
});

describe("idle firmware", () => {
  // utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15).
  function cpuTicks(pid: number): number {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");  // fields from 3 (state) on
    return Number(fields[14 - 3]) + Number(fields[15 - 3]);
  }
  const TICKS_PER_SECOND = 100;  // USER_HZ on Linux
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  // The share of one CPU the process uses over 2 s, after 300 ms to settle.
  async function cpuShare(pid: number): Promise<number> {
    await sleep(300);
    const wall0 = performance.now();
    const cpu0 = cpuTicks(pid);
    await sleep(2000);
    const cpuMs = ((cpuTicks(pid) - cpu0) * 1000) / TICKS_PER_SECOND;
    return cpuMs / (performance.now() - wall0);
  }

  test("a firmware waiting 2.5 s for its one timer uses under 2% CPU", async () => {
    const exe = buildApp(mainApp(`
      console.log("waiting");
      setTimeout(() => console.log("done"), 2500);
    `));
    const running = start(exe, [], 20000);
    const pid = running.child.pid!;
    expect(await running.firstLine).toBe("waiting");
    const share = await cpuShare(pid);
    expect(running.stdout).toBe("waiting\n");  // both samples taken while the firmware waited
    const r = await running.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("waiting\ndone\n");
    expect(share).toBeLessThan(0.02);
  });

  // The AsyncManager writes a reply itself, outside mongoose's loop
  // (core/send_now.c): had that left epoll watching a socket for room to write,
  // the poll task would wake at once, again and again, for as long as the
  // connection stays open.
  test("an AsyncManager that answered 400 requests on 8 kept-alive connections uses under 2% CPU once they stop", async () => {
    const port = await freePort();
    const exe = buildApp(mainApp(`
      import { AsyncManager } from "mongoose";
      const am = new AsyncManager();
      await am.start();
      await am.serve("http://127.0.0.1:${port}", (req) => req.uri === "/stop" ? (setTimeout(() => am.close(), 10), "bye\\n") : "hello\\n");
      console.log("serving");
    `));
    const running = start(exe, [], 60000);
    const pid = running.child.pid!;
    expect(await running.firstLine).toBe("serving");
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    // 8 clients, 50 requests each, one after another: each keeps its connection.
    const answers = (await Promise.all(Array.from({ length: 8 }, async () => {
      const mine = [];
      for (let i = 0; i < 50; i++) mine.push(await request(port, "GET", `/${i}`, { agent }));
      return mine;
    }))).flat();
    expect(answers.every((a) => a.status === 200 && a.body.toString() === "hello\n")).toBe(true);
    expect(answers.filter((a) => a.reused).length).toBeGreaterThanOrEqual(392);
    const share = await cpuShare(pid);
    expect((await request(port, "GET", "/stop", { agent })).body.toString()).toBe("bye\n");
    agent.destroy();
    const r = await running.done;
    expect(r.code).toBe(0);
    expect(share).toBeLessThan(0.02);
  });
});
