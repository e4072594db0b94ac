// SPDX-License-Identifier: MIT
// mongoose's log from two tasks at once: a synchronous Manager polled on the XS
// task and an AsyncManager's poll task both serve connections at mongoose's debug
// level, so both log lines at the same time. Every line must come out whole, and
// under ThreadSanitizer (XSMG_TEST_VARIANT=tsan) the log must not race.
import http from "http";
import { buildApp, makeApp, start } from "./helpers/sim";
import { freePort, sanitizerReports } from "./helpers/net";

function firmware(syncPort: number, asyncPort: number): string {
  return `
import { AsyncManager, Manager, HttpMessage, MG_EV_HTTP_MSG, MG_LL_DEBUG, logSet } from "mongoose";
logSet(MG_LL_DEBUG);
const mgr = new Manager((conn, ev, data) => {
  if (ev === MG_EV_HTTP_MSG && data instanceof HttpMessage) conn.reply(200, "sync");
});
mgr.listen("http://127.0.0.1:${syncPort}");
const am = new AsyncManager();
await am.start();
await am.serve("http://127.0.0.1:${asyncPort}", async (req) => {
  if (req.uri === "/quit") {
    setTimeout(async () => {
      await am.close();
      mgr.close();
      console.log("closed");
    }, 10);
    return "bye";
  }
  return "async";
});
void mgr.run();
console.log("ready");
`;
}

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // A new connection each time: accepts and closes are what mongoose logs most.
    http.get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve(text));
    }).on("error", reject);
  });
}

// mongoose's line: its prefix (millis in hex, level, file:line:function, padded
// to 40 columns), the message, CR LF. A line torn by another task's characters
// lacks the prefix, or holds a second one.
const PREFIX = /[0-9a-f]+ +[1-4] [\w.-]+:\d+:\w+/;

describe("mongoose's log with both tasks logging", () => {
  it("prints whole lines when the XS task and the poll task log at once", async () => {
    const [syncPort, asyncPort] = [await freePort(), await freePort()];
    const exe = buildApp(makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }),
      "main.ts": firmware(syncPort, asyncPort),
    }));
    const fw = start(exe, [], 170000);
    expect(await fw.firstLine).toBe("ready");
    let answers: string[] = [];
    try {
      // 8 clients on each server at a time, 40 requests each.
      answers = (await Promise.all(Array.from({ length: 16 }, async (_, c) => {
        const got: string[] = [];
        for (let r = 0; r < 40; r++) got.push(await get(c % 2 ? asyncPort : syncPort, `/c${c}/r${r}`));
        return got;
      }))).flat();
      expect(await get(asyncPort, "/quit")).toBe("bye");
    } catch (error) {
      process.kill(-fw.child.pid!, "SIGKILL");
      const { code, signal } = await fw.done;
      throw new Error(`${(error as Error).message}; firmware exit ${code ?? signal}, stderr:\n${fw.stderr.slice(-4000)}`);
    }
    const result = await fw.done;
    expect(sanitizerReports(result.stderr)).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("ready\nclosed\n");
    expect(answers.filter((a) => a === "sync")).toHaveLength(320);
    expect(answers.filter((a) => a === "async")).toHaveLength(320);
    const lines = result.stderr.split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(640);  // at least one per request, from each task
    const torn = lines.filter((l) => !new RegExp(`^${PREFIX.source} .*\\r$`).test(l)
      || (l.match(new RegExp(PREFIX.source, "g")) ?? []).length > 1);
    expect(torn).toEqual([]);
  }, 600000);
});
