// SPDX-License-Identifier: MIT
// Types of native-net.js. Internal to the mongoose module: apps import "mongoose".
declare module "mongoose/native-net" {
  type Host = object;

  export function managerDns(manager: Host, url: string | undefined, timeoutMs: number | undefined): void;
}
