// SPDX-License-Identifier: MIT
// How AsyncManager.close() stops its poll task without ever deadlocking: the task
// may be stuck in native work (a slow file read, a TLS handshake) or waiting for
// room in a full queue, so it is woken again every 5 s, with a warning naming what
// it is doing, until the deadline; then it is abandoned (its memory not freed).
import * as native from "mongoose/native-async";
import { withDeadline } from "mongoose/abort";

const RETRY_MS = 5000;

/** Asks the poll task of am to stop; resolves once it did (stopped settled) or was abandoned. */
export async function stopPollTask(am: object, stopped: Promise<unknown>, timeoutMs: number): Promise<void> {
  native.stop(am);
  const started = Date.now();
  for (;;) {
    const left = Math.max(timeoutMs - (Date.now() - started), 0);
    const wait = Math.min(RETRY_MS, left);
    // undefined when the wait ran out. withDeadline clears its timer once the poll
    // task is done: a pending timer would keep the firmware alive.
    const finished = await withDeadline(stopped.then(() => true), wait, undefined, "AsyncManager close", true);
    if (finished) {
      native.finish(am, false);
      return;
    }
    // The last wait ran to the deadline: Date.now() may read a millisecond short
    // of it when the timer fires (the timers keep their own clock).
    if (wait === left || Date.now() - started >= timeoutMs) {
      console.warn(`AsyncManager: the poll task did not stop within ${timeoutMs} ms (stuck in ${native.activity(am)}); abandoning it`);
      native.finish(am, true);
      return;
    }
    console.warn(`AsyncManager: the poll task is still running after ${Date.now() - started} ms (stuck in ${native.activity(am)}); waking it again`);
    native.stop(am);
  }
}
