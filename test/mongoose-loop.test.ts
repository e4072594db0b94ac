// SPDX-License-Identifier: MIT
// mgr.run() makes the Manager a source of the firmware's loop: while it serves,
// setTimeout fires, promise continuations run, a second Manager and an
// AsyncManager (whose events are posted to the XS task) are served, and SIGTERM
// stops the firmware at once; `await mgr.run()` resumes after close(). The
// first Manager runs with a 5 s poll period, so anything served well under 5 s
// was served because the loop was woken, not because mongoose's wait ran out.
import { buildApp, makeApp } from "./helpers/sim";
import { freePort, sanitizerReports, startFirmware, type Running } from "./helpers/net";
import { request } from "./helpers/http";

function firmware(ports: { a: number; b: number; async: number }): string {
  return `
import { AsyncManager, Manager, HttpMessage, MG_EV_HTTP_MSG, type Connection } from "mongoose";
const am = new AsyncManager();
await am.start();
await am.serve("http://127.0.0.1:${ports.async}", async (req) => "async " + req.uri);
const b = new Manager((conn, ev, data) => {
  if (ev === MG_EV_HTTP_MSG && data instanceof HttpMessage) conn.reply(200, "b " + data.uri);
});
async function later(conn: Connection): Promise<void> {
  await Promise.resolve();
  await Promise.resolve();
  conn.reply(200, "after two awaits");
}
const a = new Manager((conn, ev, data) => {
  if (ev !== MG_EV_HTTP_MSG || !(data instanceof HttpMessage)) return;
  const uri = data.uri;
  if (uri === "/timer") setTimeout(() => conn.reply(200, "from a timer"), 30);
  else if (uri === "/job") void later(conn);
  else if (uri === "/reenter") {
    let inside = "";
    try {
      a.poll(0);
    } catch (e) {
      inside = (e as Error).message;
    }
    setTimeout(() => {
      a.poll(0);  // outside its handlers: one more poll, allowed
      conn.reply(200, inside);
    }, 0);
  }
  else if (uri === "/second") {
    b.listen("http://127.0.0.1:${ports.b}");
    void b.run(20).then(() => console.log("b resolved, closed " + b.closed));
    conn.reply(200, "second running, same promise " + (b.run() === b.run()));
  } else if (uri === "/close") {
    conn.reply(200, "closing");
    setTimeout(() => a.close(), 10);
  } else conn.reply(200, "a " + uri);
});
a.listen("http://127.0.0.1:${ports.a}");
console.log("ready");
await a.run(5000);
console.log("a resolved, closed " + a.closed);
if (a.closed) {
  b.close();
  await am.close();
  const never = new Manager();
  never.close();
  await never.run();
  console.log("done");
}
`;
}

describe("Manager.run() on the firmware's loop", () => {
  let exe: string;
  let ports: { a: number; b: number; async: number };
  const running: Running[] = [];

  beforeAll(async () => {
    ports = { a: await freePort(), b: await freePort(), async: await freePort() };
    exe = buildApp(makeApp({ "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }), "main.ts": firmware(ports) }));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((fw) => fw.stop()));
  });

  async function boot(): Promise<Running> {
    const fw = startFirmware(exe);
    running.push(fw);
    await fw.waitFor(/^ready$/);
    return fw;
  }
  async function get(port: number, uri: string): Promise<{ text: string; ms: number }> {
    const t0 = Date.now();
    const answer = await request(port, "GET", uri);
    expect(answer.status).toBe(200);
    return { text: answer.body.toString(), ms: Date.now() - t0 };
  }

  test("setTimeout fires and promise continuations run between requests it serves", async () => {
    await boot();
    for (let i = 0; i < 3; i++) {
      const timer = await get(ports.a, "/timer");
      expect(timer.text).toBe("from a timer");
      expect(timer.ms).toBeLessThan(2500);
      const job = await get(ports.a, "/job");
      expect(job.text).toBe("after two awaits");
      expect(job.ms).toBeLessThan(2500);
    }
    expect((await get(ports.a, "/plain")).text).toBe("a /plain");
  });

  test("poll() from its own handler throws; from a timer it polls once more", async () => {
    await boot();
    expect((await get(ports.a, "/reenter")).text).toMatch(/re-entrantly/);
    expect((await get(ports.a, "/plain")).text).toBe("a /plain");
  });

  test("an AsyncManager's requests (posted to the XS task) are served beside it at once", async () => {
    await boot();
    for (let i = 0; i < 5; i++) {
      const answer = await get(ports.async, `/r${i}`);
      expect(answer.text).toBe(`async /r${i}`);
      expect(answer.ms).toBeLessThan(2500);  // the running Manager waits 5 s unless woken
    }
  });

  test("a second running Manager is served too; run() twice gives the same promise", async () => {
    await boot();
    expect((await get(ports.a, "/second")).text).toBe("second running, same promise true");
    for (let i = 0; i < 5; i++) {
      const [fromB, fromA, fromAsync] = await Promise.all([get(ports.b, `/b${i}`), get(ports.a, `/a${i}`), get(ports.async, `/x${i}`)]);
      expect([fromB.text, fromA.text, fromAsync.text]).toEqual([`b /b${i}`, `a /a${i}`, `async /x${i}`]);
      expect(fromB.ms).toBeLessThan(2500);
    }
  });

  test("await mgr.run() resumes after close() (at once for a closed Manager); the firmware then ends by itself", async () => {
    const fw = await boot();
    await get(ports.a, "/second");
    expect((await get(ports.b, "/")).text).toBe("b /");
    expect((await get(ports.a, "/close")).text).toBe("closing");
    expect(await fw.exited).toBe(0);
    expect(fw.stdout()).toBe("ready\na resolved, closed true\nb resolved, closed true\ndone\n");
    expect(sanitizerReports(fw.stderr())).toEqual([]);
  });

  test("SIGTERM stops it at once; run()'s promise resolves in the stop's turn", async () => {
    const fw = await boot();
    expect((await get(ports.a, "/x")).text).toBe("a /x");
    const t0 = Date.now();
    fw.child.kill("SIGTERM");
    expect(await fw.exited).toBe(128 + 15);
    expect(Date.now() - t0).toBeLessThan(2500);  // not the 5 s poll period
    expect(fw.stdout()).toBe("ready\na resolved, closed false\n");
    expect(sanitizerReports(fw.stderr())).toEqual([]);
  });
});
