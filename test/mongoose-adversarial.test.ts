// SPDX-License-Identifier: MIT
// Hostile and broken HTTP clients against one firmware (the intent of the seed's
// tests/test_adversarial.py, with raw net.Sockets). After each case a normal
// request on a new connection must still get 200: the firmware keeps serving.
// Where the server answers the bad request, the answer is checked too.
import http from "http";
import net from "net";
import { buildApp, mainApp } from "./helpers/sim";
import { exchange as exchangeWith, postBody, startFirmware, type Running } from "./helpers/net";

const FIRMWARE = `
import { Manager, HttpMessage, MG_EV_HTTP_MSG, MG_EV_ERROR } from "mongoose";

const mgr: Manager = new Manager((conn, ev, data) => {
  if (ev === MG_EV_HTTP_MSG && data instanceof HttpMessage) {
    if (data.uri === "/quit") {
      conn.reply(200, "bye");
      conn.drain();
      mgr.timerAdd(50, () => mgr.close());
      return;
    }
    // What arrived, for the cases that do get through.
    conn.reply(200, "OK " + data.method + " " + data.uri.length + " " + data.body.length + " " + data.headers.length);
  } else if (ev === MG_EV_ERROR) {
    console.log("error on " + conn.id + ": " + String(data));
  }
});
const listener = mgr.listen("http://127.0.0.1:0");
console.log("ready " + listener.localAddr!.port);
await mgr.run(10);
console.log("manager closed");
`;

const MAX_RECV = 256 * 1024;  // MG_MAX_RECV_SIZE in modules/mongoose/c/mg_config.h

let fw: Running;
let port = 0;

function healthy(): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/healthcheck", agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.setTimeout(3000, () => req.destroy(new Error("health check: no answer in 3 s")));
    req.on("error", reject);
  });
}

async function expectServing(): Promise<void> {
  expect(await healthy()).toEqual({ status: 200, body: expect.stringMatching(/^OK GET 12 0 \d+$/) });
}

// A request mongoose cannot parse: the binding's 400 (c/core/http_unparsed_request.c), then the close; the handler never saw it.
function expectBadRequest(r: { data: string; ended: string }): void {
  expect(r.data).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  expect(r.data).toMatch(/\r\nConnection: close\r\n/);
  expect(r.data).toMatch(/\r\n\r\nthe request could not be parsed\n$/);
  expect(r.ended).toBe("end");
}

// This firmware's port, for the shared helper.
const exchange = (talk: (s: net.Socket) => void | Promise<void>, timeoutMs?: number) => exchangeWith(port, talk, timeoutMs);
const send = (payload: string | Buffer, timeoutMs?: number) => exchange((s) => void s.write(payload), timeoutMs);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  fw = startFirmware(buildApp(mainApp(FIRMWARE)));
  port = Number((await fw.waitFor(/^ready \d+$/)).split(" ")[1]);
});

afterAll(async () => {
  if (!fw) return;
  await new Promise<void>((resolve) => http.get({ host: "127.0.0.1", port, path: "/quit", agent: false }, (r) => r.resume().on("end", resolve)).on("error", () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([fw.exited, new Promise<number>((r) => (timer = setTimeout(() => r(-1), 3000)))]);
  clearTimeout(timer);
  if (code !== 0) await fw.stop();
  expect(code).toBe(0);
});

describe("adversarial HTTP clients: the firmware keeps serving", () => {
  test("baseline", async () => {
    await expectServing();
  });

  test("a request line that is not HTTP/1.x gets 400 and a close: no version, a bad version, binary garbage", async () => {
    // mongoose 7.23 refuses "METHOD URI" with no version (7.19 took it as a request).
    expectBadRequest(await send("NOT_HTTP garbage\r\nConnection: close\r\n\r\n"));
    await expectServing();
    expectBadRequest(await send("GET / HTTP/9.99\r\nHost: x\r\n\r\n"));
    await expectServing();
    // A TLS ClientHello on the plain HTTP port.
    expectBadRequest(await send(Buffer.from("16030100a5010000a10303" + "00".repeat(32) + "0d0a0d0a", "hex")));
    await expectServing();
  });

  test("headers never terminated, then the client hangs up", async () => {
    const r = await exchange(async (s) => {
      s.write("GET / HTTP/1.1\r\nHost: localhost\r\n");
      await sleep(300);
      s.end();
    });
    expect(r.data).toBe("");
    await expectServing();
  });

  test("one 100 KB header is accepted (it fits the 256 KB receive buffer)", async () => {
    const r = await send(`GET /big HTTP/1.1\r\nHost: x\r\nX-Big: ${"X".repeat(100_000)}\r\nConnection: close\r\n\r\n`);
    expect(r.data).toMatch(/\r\n\r\nOK GET 4 0 3$/);
    expect(r.ended).toBe("end");
    await expectServing();
  });

  test("500 headers: the request is served, the handler sees the first 30 (MG_MAX_HTTP_HEADERS)", async () => {
    const headers = Array.from({ length: 500 }, (_, i) => `X-Hdr-${i}: value-${i}\r\n`).join("");
    const r = await send(`GET /many HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}\r\n`);
    expect(r.data).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nOK GET 5 0 30$/);
    expect(r.ended).toBe("end");
    await expectServing();
  });

  test("a NUL byte in the URI gets 400 and a close", async () => {
    expectBadRequest(await send(Buffer.from("GET /\0evil HTTP/1.1\r\nHost: localhost\r\n\r\n", "latin1")));
    await expectServing();
  });

  test("two Content-Length headers get 400 and a close (no request smuggling), even when they agree", async () => {
    expectBadRequest(await send("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 100\r\n\r\nhello"));
    await expectServing();
    // mongoose 7.23 refuses a repeated Content-Length (and Transfer-Encoding,
    // Authorization, Cookie, Connection) whatever the values.
    expectBadRequest(await send("POST /same HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"));
    await expectServing();
  });

  test("50 idle sockets held open do not stop others being served", async () => {
    const idle = await Promise.all(
      Array.from({ length: 50 }, () => new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(port, "127.0.0.1", () => resolve(s));
        s.on("error", reject);
      })),
    );
    try {
      await sleep(200);
      await expectServing();
      expect(idle.every((s) => !s.destroyed)).toBe(true);
    } finally {
      idle.forEach((s) => s.destroy());
    }
    await sleep(100);
    await expectServing();
  });

  test("a slow-loris client (one header byte every 100 ms for 3 s) neither blocks others nor goes unanswered", async () => {
    const request = "GET /slowloris HTTP/1.1\r\nHost: x\r\n";  // 34 bytes: 3.4 s of dribbling
    const served: number[] = [];
    const r = await exchange(async (s) => {
      for (let i = 0; i < request.length; i++) {
        s.write(request[i]);
        await sleep(100);
        if (i % 10 === 5) served.push((await healthy()).status);  // others are served meanwhile
      }
      s.write("Connection: close\r\n\r\n");
    }, 8000);
    expect(served).toEqual([200, 200, 200]);
    expect(r.data).toMatch(/\r\n\r\nOK GET 10 0 2$/);
    await expectServing();
  });

  test(`a body larger than MG_MAX_RECV_SIZE (${MAX_RECV / 1024} KB) gets 413; the body is read and dropped, not reset`, async () => {
    const size = MAX_RECV + 50_000;
    const r = await postBody(port, "/upload", size);
    expect(r.data).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
    expect(r.data).toMatch(/\r\n\r\nthe request body is too large\n$/);
    expect(r.ended).toBe("end");
    await expectServing();
  });

  test("a chunked body past MG_MAX_RECV_SIZE: mongoose drops the connection, the handler sees the ERROR", async () => {
    const r = await exchange(async (s) => {
      s.write("POST /chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
      const chunk = Buffer.concat([Buffer.from("2710\r\n"), Buffer.alloc(10_000, 0x42), Buffer.from("\r\n")]);
      for (let i = 0; i < 30; i++) s.write(chunk);
    }, 5000);
    expect(r.data).toBe("");
    expect(r.ended).not.toBe("timeout");
    await fw.waitFor(/^error on \d+: MG_MAX_RECV_SIZE$/);
    await expectServing();
  });

  test("the firmware never crashed", async () => {
    let exitedEarly = false;
    fw.exited.then(() => (exitedEarly = true));
    await sleep(10);
    expect(exitedEarly).toBe(false);
    await expectServing();
  });
});
