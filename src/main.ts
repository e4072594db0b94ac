// SPDX-License-Identifier: MIT
// The demo firmware: what `npm start` runs in the simulator.
import Timer from "timer";

const started = Date.now();
let beats = 0;

console.log("xs-mongoose demo firmware: up");

const heartbeat = Timer.repeat(() => {
  beats++;
  console.log(`heartbeat ${beats} at ${Date.now() - started} ms`);
  if (beats === 3) {
    Timer.clear(heartbeat);
    console.log("demo done; a networked firmware would keep serving here");
  }
}, 500);
