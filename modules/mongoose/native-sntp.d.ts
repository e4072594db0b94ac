// SPDX-License-Identifier: MIT
// Types of native-sntp.js. Internal to the mongoose module: apps import "mongoose".
declare module "mongoose/native-sntp" {
  export function connSntpRequest(conn: object): void;
}
