// SPDX-License-Identifier: MIT
// `xsmg new DIR`: writes a minimal app (firmware/template/) into an empty folder,
// with a tsconfig.json that points the user's editor and tsc at this toolchain's
// typings wherever the app lives.
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "./manifest.mjs";

const TEMPLATE = path.join(ROOT, "firmware", "template");
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).name;

export class NewError extends Error {}

// How the app reaches this toolchain: as an npm dependency of the app or of a
// folder above it (a package specifier survives moving the project), or else by
// its absolute path (a clone, or a global install).
function toolchainFrom(dir) {
  for (let d = dir; ; d = path.dirname(d)) {
    const installed = path.join(d, "node_modules", PACKAGE);
    if (fs.existsSync(installed) && fs.realpathSync(installed) === fs.realpathSync(ROOT))
      return { tsconfig: `${PACKAGE}/firmware/tsconfig.app.json`, xsmg: "npx xsmg" };
    if (path.dirname(d) === d) break;
  }
  const global = (process.env.PATH ?? "").split(path.delimiter).some((bin) => {
    const exe = path.join(bin, "xsmg");
    return fs.existsSync(exe) && fs.realpathSync(exe) === path.join(ROOT, "firmware", "cli.mjs");
  });
  return { tsconfig: path.join(ROOT, "firmware", "tsconfig.app.json"), xsmg: global ? "xsmg" : `node ${path.join(ROOT, "firmware", "cli.mjs")}` };
}

/** Writes the app; returns the files written, relative to dir. */
export function newApp(dir) {
  dir = path.resolve(dir);
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new NewError(`${dir} exists and is not a folder`);
    const present = fs.readdirSync(dir);
    if (present.length)
      throw new NewError(`${dir} is not empty (${present.slice(0, 3).join(", ")}${present.length > 3 ? ", ..." : ""}): ` +
        "xsmg new writes only into a new or empty folder");
  }
  fs.mkdirSync(dir, { recursive: true });
  const reach = toolchainFrom(dir);
  const fill = (text) => text
    .replaceAll("{{NAME}}", path.basename(dir))
    .replaceAll("{{XSMG}}", reach.xsmg)
    .replaceAll("{{TOOLCHAIN}}", path.join(ROOT, "README.md"));
  const files = {
    "manifest.json": fs.readFileSync(path.join(TEMPLATE, "manifest.json"), "utf8"),
    "main.ts": fs.readFileSync(path.join(TEMPLATE, "main.ts"), "utf8"),
    // npm drops files named .gitignore from packages: the template keeps it as gitignore.
    ".gitignore": fs.readFileSync(path.join(TEMPLATE, "gitignore"), "utf8"),
    "README.md": fill(fs.readFileSync(path.join(TEMPLATE, "README.md"), "utf8")),
    "tsconfig.json": JSON.stringify({ extends: reach.tsconfig, include: ["**/*.ts"], exclude: ["build"] }, null, 2) + "\n",
  };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return { dir, files: Object.keys(files), xsmg: reach.xsmg };
}
