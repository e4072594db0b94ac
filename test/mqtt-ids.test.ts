// SPDX-License-Identifier: MIT
// MQTT packet ids (1 to 65,535) in the firmware: the allocator that the client and
// the broker share never loops when every id is held, and the options that
// would hold more ids than there are are refused.
import { runMain, lines } from "./helpers/sim";
import { freePort } from "./helpers/net";

test("freeId wraps and throws when every id is held; maxPending and maxInflight stop at 65,535", async () => {
  const port = await freePort();
  const r = await runMain(`
import { AsyncManager } from "mongoose";
import "mongoose/mqtt-client";
import "mongoose/mqtt-broker";
import { freeId } from "mongoose/mqtt-packets";
const report = (what: string, run: () => unknown) => {
  try {
    console.log(what + " " + String(run()));
  } catch (error) {
    console.log(what + " " + (error as Error).name + ": " + (error as Error).message);
  }
};
report("wraps", () => freeId(0xfffe, { has: (id: number) => id !== 3 && id !== 0xfffe }));
report("all-held", () => freeId(7, { has: () => true }));
const am = new AsyncManager();
await am.start();
report("maxPending", () => am.mqtt("mqtt://127.0.0.1:${port}", { maxPending: 65536, reconnect: false }) && "accepted");
try {
  await am.mqttBroker("mqtt://127.0.0.1:${port}", { maxInflight: 65536 });
  console.log("maxInflight accepted");
} catch (error) {
  console.log("maxInflight " + (error as Error).name + ": " + (error as Error).message);
}
await am.close();
`);
  expect(r.stderr).toBe("");
  expect(lines(r.stdout)).toEqual([
    "wraps 3",
    "all-held Error: every MQTT packet id (1 to 65,535) is in use",
    `maxPending RangeError: MQTT mqtt://127.0.0.1:${port}: maxPending must be from 1 to 65,535`,
    "maxInflight RangeError: mqttBroker: maxInflight must be at most 65,535, got 65536",
  ]);
});
