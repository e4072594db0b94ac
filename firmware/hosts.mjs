// SPDX-License-Identifier: MIT
// Each host's recipe, hosts/<host>/host.mjs, exports:
//   variants, targets   what --variant and --target may name (the first is the
//                       default; targets is [] for a host with one chip)
//   libraries(variant)  builds what every firmware of that variant shares (the
//                       built-in modules' C among it: builtinNative(host) in
//                       manifest.mjs, as CMake by native.mjs); returns
//                       what firmware() gets as libs (and the build log shows)
//   firmware({ app, out, gen, libs, variant, target })
//                       makes the image in gen/ into the host's firmware under out;
//                       returns { path, next? } (next: what the user does next)
// and, where the host has them:
//   run(path, { timeout, stats, config, ram, passthrough })   xsmg run: runs the firmware
//                                                (may return a promise; cli.mjs awaits it)
//   runOptions                                   what run takes besides --timeout
//                                                (default: stats, config, -- ARGS)
//   checkRunOptions(opts)                        throws a BuildError for a run option
//                                                it cannot use, before the build
//   flash({ build, out, target, port, quiet }),  xsmg flash and monitor; build()
//   monitor({ out, target, port })               builds as xsmg build does
//   size({ build, out, budget, log })            xsmg size: prints flash and RAM per
//                                                component; returns what is over budget
import path from "node:path";
import { pathToFileURL } from "node:url";
import { HOSTS, ROOT } from "./manifest.mjs";

export const RECIPES = Object.fromEntries(await Promise.all(HOSTS.map(async (h) =>
  [h, await import(pathToFileURL(path.join(ROOT, "hosts", h, "host.mjs")).href)])));
