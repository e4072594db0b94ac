// SPDX-License-Identifier: MIT
// Each host's recipe, hosts/<host>/host.mjs, exports:
//   variants, targets       what --variant and --target may name (targets: [] for none)
//   libraries(variant)      builds what every firmware of that variant shares; returns
//                           what firmware() is given as libs
//   firmware({ app, out, gen, libs, variant, target, log })
//                           links or packages the image in gen/ into a firmware under
//                           out; returns { path, next? } (next: what the user does next)
//   run(firmware, opts), flash(firmware, opts), monitor(firmware, opts)
//                           where the host has them
import path from "node:path";
import { pathToFileURL } from "node:url";
import { HOSTS, ROOT } from "./manifest.mjs";

export const RECIPES = Object.fromEntries(await Promise.all(HOSTS.map(async (h) =>
  [h, await import(pathToFileURL(path.join(ROOT, "hosts", h, "host.mjs")).href)])));
