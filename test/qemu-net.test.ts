// SPDX-License-Identifier: MIT
// The virtual board's network (hosts/qemu: virtio-net, lwIP, mongoose over lwIP
// sockets) reached from this machine through QEMU's user network: an
// am.serve app through --forward, answered to Node's http client, and an app
// that connects out through a --reach rule to a Node server of the test, twice
// (QEMU starts hosts/qemu/relay.mjs once per connection).
import { spawnSync } from "child_process";
import { pathToFileURL } from "url";
import http from "http";
import path from "path";
import { boardApp, bootBoard } from "./helpers/board";
import { pattern, request } from "./helpers/http";
import { freePort, listenFresh } from "./helpers/net";
import { CLI, ROOT, lines, start, type Running } from "./helpers/sim";

// Answers GET with its method and URI, echoes a POST's body, and closes its
// manager on /stop, after which the board powers off (exit 0).
const SERVE = `
import { AsyncManager } from "mongoose";
const am = new AsyncManager();
await am.start();
await am.serve("http://0.0.0.0:80", (req) => {
  if (req.uri === "/stop") {
    setTimeout(() => { am.close(); }, 10);
    return "stopping";
  }
  if (req.method === "POST") return { headers: { "Content-Type": "application/octet-stream" }, body: req.body };
  return "hello from the board: " + req.method + " " + req.uri;
});
console.log("listening");
`;

function boot(source: string, options: string[]): Running {
  return bootBoard(boardApp(source), options);
}

// Checks a served board: a GET, a 20 kB POST of every byte value echoed exactly
// (more than one frame and one TCP window each way), then /stop and exit 0.
async function exercise(board: Running, port: number): Promise<void> {
  expect(await board.firstLine).toBe("listening");
  const get = await request(port, "GET", "/greeting");
  expect({ status: get.status, body: get.body.toString() }).toEqual({ status: 200, body: "hello from the board: GET /greeting" });
  const sent = pattern(20_000);
  const post = await request(port, "POST", "/echo", { body: sent });
  expect(post.status).toBe(200);
  expect(post.body.length).toBe(sent.length);
  expect(post.body.equals(sent)).toBe(true);
  expect((await request(port, "GET", "/stop")).body.toString()).toBe("stopping");
  const r = await board.done;
  expect({ code: r.code, console: lines(r.stdout) }).toEqual({ code: 0, console: ["listening"] });
}

describe("the virtual board's network (qemu)", () => {
  test("am.serve on the board answers a GET and echoes a POST byte-exact through --forward, then exits 0", async () => {
    const port = await freePort();
    const board = boot(SERVE, ["--forward", `${port}:80`]);
    await board.firstLine;
    expect(board.stderr).toBe(`xsmg: forwarding 127.0.0.1:${port} -> board:80\n`);
    await exercise(board, port);
  }, 60_000);

  test("the board connects out through --reach to a server on this machine, twice, and its clock is the host's", async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        res.end(`answer ${seen.length} to ${body}`);
      });
    });
    const hostPort = await listenFresh(server);
    try {
      const before = Date.now();
      const board = boot(`
        import { AsyncManager } from "mongoose";
        const am = new AsyncManager();
        await am.start();
        for (const n of [1, 2]) {
          const r = await am.fetch("http://10.0.2.100:1883/hello/" + n, { method: "POST", body: "from the board " + n });
          console.log("fetch " + n + ": " + r.status + " " + (await r.text()));
        }
        console.log("clock " + Date.now());
        await am.close();
      `, ["--reach", `10.0.2.100:1883=127.0.0.1:${hostPort}`]);
      const r = await board.done;
      const after = Date.now();
      expect(r.stderr).toBe(`xsmg: the board reaches 127.0.0.1:${hostPort} at 10.0.2.100:1883\n`);
      const console = lines(r.stdout);
      expect({ code: r.code, fetches: console.slice(0, 2) }).toEqual({
        code: 0,
        fetches: ["fetch 1: 200 answer 1 to from the board 1", "fetch 2: 200 answer 2 to from the board 2"],
      });
      expect(seen).toEqual(["POST /hello/1 from the board 1", "POST /hello/2 from the board 2"]);
      // The board's Date.now() (port_epoch_ms, from virt's RTC) lies within the run.
      const clock = Number(/^clock (\d+)$/.exec(console[2])?.[1]);
      expect(clock).toBeGreaterThanOrEqual(before);
      expect(clock).toBeLessThanOrEqual(after);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 60_000);

  test("the driver runs virtio-mmio version 2 too, and takes the first of two NICs (QEMU run directly)", async () => {
    const dir = path.dirname(boardApp(SERVE));
    const built = spawnSync(process.execPath, [CLI, "build", "--host", "qemu", "--quiet", "--manifest", path.join(dir, "manifest.json"),
      "--out", path.join(dir, "out")], { encoding: "utf8" });
    expect({ status: built.status, stderr: built.stderr }).toEqual({ status: 0, stderr: "" });
    const port = await freePort();
    const recipe = pathToFileURL(path.join(ROOT, "hosts", "qemu", "host.mjs")).href;
    const args = spawnSync(process.execPath, ["--input-type=module", "-e",
      `import { qemuArgs } from ${JSON.stringify(recipe)}; console.log(JSON.stringify(qemuArgs(process.argv[1], { forwards: [{ host: ${port}, board: 80 }] })));`,
      path.join(dir, "out", "firmware-2048k.elf")], { encoding: "utf8" });
    // QEMU 7.2 presents the legacy interface unless told; the second NIC comes after the first on the command line.
    const board = start("qemu-system-riscv32", [...JSON.parse(args.stdout), "-global", "virtio-mmio.force-legacy=false",
      "-netdev", "user,id=n1,restrict=on", "-device", "virtio-net-device,netdev=n1"], 45_000);
    await exercise(board, port);
  }, 60_000);

  test("--forward and --reach refuse what they cannot map, before anything is built", async () => {
    const r = (args: string[]) => spawnSync(process.execPath, [CLI, "run", "--host", "qemu", "--manifest", "/nonexistent/manifest.json", ...args], { encoding: "utf8" });
    expect(r(["--forward", "80"]).stderr).toContain('--forward takes HOSTPORT:BOARDPORT (ports 1-65535), got "80"');
    expect(r(["--reach", "10.0.2.2:80=8080"]).stderr).toContain("--reach: 10.0.2.2 must be in the board's network 10.0.2.0/24, but not");
    expect(r(["--reach", "192.168.1.5:80=127.0.0.1:8080"]).stderr).toContain("--reach: 192.168.1.5 must be in the board's network");
    expect(r(["--reach", "10.0.2.100:80=10.1.1.1:8080"]).stderr).toContain('--reach takes BOARDIP:PORT=127.0.0.1:HOSTPORT, got "10.0.2.100:80=10.1.1.1:8080"');
    expect(r(["--forward", "8080:80", "--forward", "8080:81"]).stderr).toContain("--forward: 127.0.0.1:8080 is forwarded twice");
    const busy = http.createServer();
    const port = await listenFresh(busy);
    try {
      const taken = r(["--forward", `${port}:80`]);
      expect({ status: taken.status, stderr: taken.stderr }).toEqual({ status: 2, stderr: `xsmg: --forward: 127.0.0.1:${port} in use on this machine\n` });
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });
});
