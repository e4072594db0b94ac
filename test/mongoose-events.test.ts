// SPDX-License-Identifier: MIT
// Handlers that name the events they want (the `events` option of Manager,
// listen and the other openers): the others stay in C. Real HTTP clients against
// one firmware with a listener of each kind; each listener's handler records the
// events it was called for, and /seen on it reports them.
import http from "http";
import net from "net";
import { buildApp, makeApp, writeFiles } from "./helpers/sim";
import { startFirmware, type Running } from "./helpers/net";

const FIRMWARE = String.raw`
import {
  Manager, Connection, HttpMessage, Handler, MG_EV_HTTP_MSG, MG_EV_CLOSE, MG_EV_CONNECT, MG_EV_MQTT_CMD, eventName,
} from "mongoose";

// The event names a handler was called for, in the order first seen.
function recorder(name: string, seen: string[]): Handler {
  const handler: Handler = (conn, ev, data) => {
    const evName = eventName(ev);
    if (!seen.includes(evName)) seen.push(evName);
    if (ev !== MG_EV_HTTP_MSG || !(data instanceof HttpMessage)) return;
    switch (data.uri) {
      case "/seen": conn.replyJson(seen); return;
      case "/throw": throw new Error("thrown on purpose in " + name);
      case "/accepted":
        conn.replyJson(mgr.connections.filter((c) => c.isAccepted).length);
        return;
      case "/inherits": conn.replyJson(conn.handler === handler); return;
      case "/mqtt": conn.replyJson({ client: seenMqttClient, server: seenMqttServer }); return;
      case "/quit":
        conn.reply(200, "bye");
        conn.drain();
        mgr.timerAdd(50, () => mgr.close());  // after the reply has gone out
        return;
      default: conn.reply(200, name + " hello\n");
    }
  };
  return handler;
}

const seenOwn: string[] = [], seenAll: string[] = [], seenManager: string[] = [];
const seenMqttClient: string[] = [], seenMqttServer: string[] = [];
const mgr: Manager = new Manager(recorder("manager", seenManager), {
  events: [MG_EV_HTTP_MSG, MG_EV_CLOSE],
  errorHandler: (error, conn, ev) => console.log("errorHandler: " + (error as Error).message + " on " + eventName(ev)),
});
const own = mgr.listen("http://127.0.0.1:0", recorder("own", seenOwn), { events: [MG_EV_HTTP_MSG] });
const all = mgr.listen("http://127.0.0.1:0", recorder("all", seenAll));
const managers = mgr.listen("http://127.0.0.1:0");
try {
  mgr.listen("http://127.0.0.1:0", undefined, { events: [32] });
} catch (e) {
  console.log("refused: " + (e instanceof RangeError) + " " + (e as Error).message);
}
// An MQTT client of the firmware's own MQTT listener: each side asks for one event.
const broker = mgr.mqttListen("mqtt://127.0.0.1:0", recorder("mqtt server", seenMqttServer), { events: [MG_EV_MQTT_CMD] });
mgr.mqttConnect("mqtt://127.0.0.1:" + broker.localAddr!.port, {
  handler: recorder("mqtt client", seenMqttClient), events: [MG_EV_CONNECT], clientId: "events",
});
console.log("ready " + own.localAddr!.port + " " + all.localAddr!.port + " " + managers.localAddr!.port);
await mgr.run(10);
console.log("manager closed");
`;

let fw: Running;
let ports = { own: 0, all: 0, managers: 0 };

function get(port: number, uri: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: uri, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
      res.on("error", reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${uri}: no answer in 5 s`)));
    req.on("error", reject);
    req.end();
  });
}

const json = async (port: number, uri: string): Promise<unknown> => JSON.parse((await get(port, uri)).body);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  const dir = makeApp({ "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }) });
  writeFiles(dir, { "main.ts": FIRMWARE });
  fw = startFirmware(buildApp(dir));
  const [own, all, managers] = (await fw.waitFor(/^ready \d+ \d+ \d+$/)).split(" ").slice(1).map(Number);
  ports = { own, all, managers };
});

afterAll(async () => {
  if (!fw) return;
  const bye = await get(ports.own, "/quit").catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([fw.exited, new Promise<number>((r) => (timer = setTimeout(() => r(-1), 3000)))]);
  clearTimeout(timer);
  if (code !== 0) await fw.stop();
  expect(bye?.body).toBe("bye");
  expect(code).toBe(0);
  expect(fw.stdout()).toContain("manager closed");
});

describe("Manager: handlers name the events they want", () => {
  test("a handler asking for HTTP_MSG serves and is called for nothing else", async () => {
    expect(await get(ports.own, "/hello")).toEqual({ status: 200, body: "own hello\n" });
    await sleep(100);  // polls go by: with every event the handler would see POLL now
    expect(await json(ports.own, "/seen")).toEqual(["MG_EV_HTTP_MSG"]);
  });

  test("without the option a handler still gets every event, POLL included", async () => {
    expect(await get(ports.all, "/hello")).toEqual({ status: 200, body: "all hello\n" });
    await sleep(50);
    const seen = await json(ports.all, "/seen") as string[];
    for (const ev of ["MG_EV_OPEN", "MG_EV_POLL", "MG_EV_ACCEPT", "MG_EV_READ", "MG_EV_WRITE", "MG_EV_HTTP_MSG"])
      expect(seen).toContain(ev);
  });

  test("accepted connections take their listener's handler and list", async () => {
    expect(await json(ports.own, "/inherits")).toBe(true);
    expect(await json(ports.own, "/seen")).toEqual(["MG_EV_HTTP_MSG"]);
  });

  test("the Manager's list goes to connections using the Manager's handler; CLOSE when asked", async () => {
    expect(await get(ports.managers, "/hello")).toEqual({ status: 200, body: "manager hello\n" });
    await sleep(100);  // that client's connection has closed by now
    expect(await json(ports.managers, "/seen")).toEqual(["MG_EV_HTTP_MSG", "MG_EV_CLOSE"]);
  });

  test("a throwing handler still reaches errorHandler, and the client gets a 500", async () => {
    const got = await get(ports.own, "/throw");
    expect(got.status).toBe(500);
    await fw.waitFor(/^errorHandler: thrown on purpose in own on MG_EV_HTTP_MSG$/);
  });

  test("connections that never deliver an event are still listed, and unlisted once closed", async () => {
    const idle = await Promise.all([1, 2, 3].map(() => new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(ports.own, "127.0.0.1", () => resolve(s));
      s.on("error", reject);
    })));
    await sleep(100);  // accepted: OPEN and ACCEPT went by, neither asked for
    const before = await json(ports.own, "/accepted") as number;
    expect(before).toBeGreaterThanOrEqual(4);  // the three idle ones and this request's
    await Promise.all(idle.map((s) => new Promise((r) => { s.on("close", r); s.destroy(); })));
    await sleep(100);
    expect(await json(ports.own, "/accepted")).toBe(before - 3);
    expect(await json(ports.own, "/seen")).toEqual(["MG_EV_HTTP_MSG"]);
  });

  test("mqttConnect takes a list too: its client sees CONNECT only, the listener's handler MQTT_CMD only", async () => {
    await sleep(100);  // connected, CONNECT sent and parsed, polls gone by
    expect(await json(ports.own, "/mqtt")).toEqual({ client: ["MG_EV_CONNECT"], server: ["MG_EV_MQTT_CMD"] });
  });

  test("an event a handler cannot ask for is refused with a RangeError naming it", async () => {
    await fw.waitFor(/^refused: true events: 32 is not an event a handler can ask for/);
  });
});
