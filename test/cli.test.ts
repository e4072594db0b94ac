// SPDX-License-Identifier: MIT
// What a new user meets first: the xsmg CLI's help and errors, `xsmg new` for an
// app that lives outside this repo, and `npm test` on a machine that lacks a peer.
import { spawn, spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { freePort } from "./helpers/net";
import { CLI, ROOT, TEST_VARIANT, xsmg } from "./helpers/sim";

const VERSION = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version;
const TSC = path.join(ROOT, "node_modules", "typescript", "lib", "tsc.js");

const temps: string[] = [];
function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}
afterAll(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(cmd, args, { cwd, env, encoding: "utf8" });
}

describe("the CLI is discoverable", () => {
  test("--help and help COMMAND list every command and option", () => {
    const all = xsmg(["--help"]);
    expect(all.code).toBe(0);
    for (const command of ["build", "run", "flash", "monitor", "new", "help"]) expect(all.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
    expect(all.stdout).toContain("--version");
    const build = xsmg(["help", "build"]);
    expect(build.code).toBe(0);
    for (const option of ["--host", "--manifest", "--out", "--variant", "--target", "--quiet"]) expect(build.stdout).toContain(option);
    for (const command of ["flash", "monitor"]) {
      const device = xsmg(["help", command]);
      expect(device.code).toBe(0);
      for (const option of ["--manifest", "--out", "--target", "--port"]) expect(device.stdout).toContain(option);
    }
    const run = xsmg(["run", "--help"]);
    expect(run.code).toBe(0);
    for (const option of ["--manifest", "--out", "--variant", "--timeout", "--stats", "--config", "--ram", "--forward", "--reach", "--quiet"])
      expect(run.stdout).toContain(option);
    // --reach's protocol prefix (UDP through the virtual board's gateway).
    expect(run.stdout).toContain("--reach [tcp:|udp:]BOARDIP:PORT=127.0.0.1:HOSTPORT");
    expect(xsmg(["help", "new"]).stdout).toContain("usage: xsmg new DIR");
  });

  test("an unknown command or option exits 2 with the usage", () => {
    const command = xsmg(["frobnicate"]);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command "frobnicate"');
    expect(command.stderr).toContain("usage: xsmg COMMAND");
    const option = xsmg(["run", "--fast"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('unknown option "--fast" for xsmg run');
    expect(option.stderr).toContain("usage: xsmg run");
    // The virtual board's network options are the board's: the simulator refuses them.
    const boardOnly = xsmg(["run", "--forward", "8080:80"]);
    expect(boardOnly.code).toBe(2);
    expect(boardOnly.stderr).toContain("xsmg: xsmg run --host linux-sim does not take --forward");
    expect(xsmg([]).code).toBe(2);
    expect(xsmg(["help", "frobnicate"]).code).toBe(2);
  });

  test("--version prints the package's version", () => {
    const r = xsmg(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`xsmg ${VERSION}`);
  });

  test("build or run outside an app's folder says how to start one", () => {
    const r = spawnSync(process.execPath, [CLI, "build"], { cwd: tempDir("xsmg-empty-"), encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no manifest at .*manifest\.json.*xsmg new DIR/);
  });
});

describe("xsmg new: an app outside this repo", () => {
  test("refuses a folder that is not empty, and writes nothing there", () => {
    const dir = tempDir("xsmg-full-");
    fs.writeFileSync(path.join(dir, "notes.txt"), "mine\n");
    const r = xsmg(["new", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${dir} is not empty (notes.txt): xsmg new writes only into a new or empty folder`);
    expect(fs.readdirSync(dir)).toEqual(["notes.txt"]);
  });

  test("from a clone: tsc --noEmit passes in the new folder, and a type error there is caught", () => {
    const dir = path.join(tempDir("xsmg-new-"), "device");
    const r = xsmg(["new", dir]);
    expect(r.code).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual([".gitignore", "README.md", "main.ts", "manifest.json", "tsconfig.json"]);
    const clean = sh(process.execPath, [TSC, "--noEmit", "-p", "."], dir);
    expect(clean.stdout + clean.stderr).toBe("");
    expect(clean.status).toBe(0);
    // The typings really are in force: mongoose's, timer's and the runtime's globals.
    fs.writeFileSync(path.join(dir, "extra.ts"),
      'import Timer from "timer";\nimport { AsyncManager } from "mongoose";\n' +
      "const running: string = new AsyncManager().running;\nTimer.set(() => {}, \"soon\");\nsetTimeout(1);\nexport { running };\n");
    const broken = sh(process.execPath, [TSC, "--noEmit", "-p", "."], dir);
    expect(broken.status).not.toBe(0);
    expect(broken.stdout).toMatch(/extra\.ts\(3,7\): error TS2322/);
    expect(broken.stdout).toMatch(/extra\.ts\(4,/);
    expect(broken.stdout).toMatch(/extra\.ts\(5,/);
  });

  test("as an npm dev dependency: xsmg new, tsc --noEmit, xsmg run, and a real HTTP client gets its page", async () => {
    const project = tempDir("xsmg-project-");
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "my-device", version: "1.0.0", private: true }));
    const installed = sh("npm", ["install", "--save-dev", "--no-audit", "--no-fund", ROOT], project);
    expect(installed.stderr).not.toMatch(/ERR!/);
    expect(installed.status).toBe(0);

    const made = sh("npx", ["xsmg", "new", "firmware"], project);
    expect(made.status).toBe(0);
    expect(made.stdout).toContain("npx xsmg run");
    const app = path.join(project, "firmware");
    expect(JSON.parse(fs.readFileSync(path.join(app, "tsconfig.json"), "utf8")).extends).toBe("xs-mongoose/firmware/tsconfig.app.json");
    const checked = sh(process.execPath, [TSC, "--noEmit", "-p", "."], app);
    expect(checked.stdout + checked.stderr).toBe("");
    expect(checked.status).toBe(0);

    // A user changes the port the same way: it is the first constant of main.ts.
    const port = await freePort();
    const main = path.join(app, "main.ts");
    fs.writeFileSync(main, fs.readFileSync(main, "utf8").replace("const PORT = 8080;", `const PORT = ${port};`));
    const child = spawn("npx", ["xsmg", "run", "--variant", TEST_VARIANT], { cwd: app, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const exited = new Promise<string>((resolve) => child.on("exit", (code, signal) => resolve(`${code ?? signal}`)));
    try {
      for (let i = 0; i < 1200 && !/serving http/.test(out) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain(`serving http://127.0.0.1:${port}/`);
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      expect(await page.json()).toMatchObject({ hello: "world" });
      expect((await fetch(`http://127.0.0.1:${port}/nothing`)).status).toBe(404);
      expect(fs.existsSync(path.join(app, "build", "linux-sim", TEST_VARIANT, "firmware"))).toBe(true);
    } finally {
      process.kill(-child.pid!, "SIGINT");
    }
    // npx dies of the signal; xsmg and the firmware exit 130.
    expect(["130", "SIGINT"]).toContain(await exited);
  });
});

describe("npm test on a machine without a peer", () => {
  test("stops before any test, naming the missing program and the command that installs it", () => {
    // A PATH with everything the steps before jest use, but no mosquitto (nor its
    // clients) and no apt-get (so nothing can install them, as for a user who is not root).
    const bin = tempDir("xsmg-path-");
    const wanted = ["sh", "env", "node", "npm", "tar", "python3", "curl", "openssl", "chronyd", "valgrind", "cmake", "gcc", "make",
      "riscv64-unknown-elf-gcc", "cargo", "qemu-system-riscv32"];
    for (const name of wanted) {
      const found = sh("sh", ["-c", `command -v ${name}`], ROOT, { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` }).stdout.trim();
      if (found) fs.symlinkSync(found, path.join(bin, name));
    }
    const r = sh(path.join(bin, "npm"), ["test", "--", "--listTests"], ROOT, { ...process.env, PATH: bin });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^requirements: missing mosquitto, mosquitto_passwd, mosquitto_pub, mosquitto_sub; install with: (sudo )?apt-get update && (sudo )?apt-get install -y --no-install-recommends mosquitto mosquitto-clients$/m);
    expect(r.stdout).not.toMatch(/\.test\.ts/);  // jest never started
  });
});
