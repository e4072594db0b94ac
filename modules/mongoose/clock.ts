// SPDX-License-Identifier: MIT
// AsyncManager.sntp and syncClock: the time from an SNTP server, and the
// firmware's clock (Date.now(), new Date(), TLS's certificate dates) set from it.
import { MG_EV_CLOSE, MG_EV_ERROR, MG_EV_SNTP_TIME } from "mongoose/constants";
import { clockSet } from "mongoose/native-sntp";
import { withDeadline, type AbortSignal } from "mongoose/abort";
import { deferred, ignore } from "mongoose/deferred";
import type { AsyncManager } from "mongoose/async-manager";

export interface SntpOptions {
  /** Milliseconds before the query fails (default 30000 for sntp, 10000 for each sync). */
  timeout?: number;
  signal?: AbortSignal;
}

export interface SyncClockOptions extends SntpOptions {
  /** Milliseconds between syncs after the first (default 3,600,000: hourly). */
  every?: number;
}

/** The time from an SNTP server, in epoch milliseconds, half the round trip added (mongoose's). */
export function sntp(am: AsyncManager, url: string, options: SntpOptions = {}, what = "sntp"): Promise<number> {
  const time = deferred<number>();
  time.promise.catch(ignore);  // settled by events while nobody awaits it yet
  const opened = am.sntpConnect(url, (_conn, ev, data) => {
    if (ev === MG_EV_SNTP_TIME && typeof data === "number") time.resolve(data);
    else if (ev === MG_EV_ERROR) time.reject(new Error(`${what} ${url}: ${String(data)}`));
    else if (ev === MG_EV_CLOSE) time.reject(new Error(`${what} ${url}: no valid reply (mongoose waits 3 s)`));
  }, options);
  const result = withDeadline(opened.then(() => time.promise), options.timeout ?? 30000, options.signal, `${what} ${url}`);
  result.catch(() => opened.then((conn) => conn.close(), ignore));
  return result;
}

/**
 * Sets the firmware's clock from url now, then every options.every ms until the
 * signal aborts or the manager closes. Resolves to the time the first sync set;
 * rejects when it fails, and the later syncs are still made. A later sync that
 * fails goes to report, and the clock runs on from the last one.
 */
export function syncClock(am: AsyncManager, url: string, options: SyncClockOptions, report: (error: unknown) => void): Promise<number> {
  const every = options.every ?? 3_600_000;
  if (!(every >= 1000)) throw new RangeError(`syncClock ${url}: every must be at least 1000 ms, got ${every}`);
  const once = (): Promise<number> => sntp(am, url, { timeout: options.timeout ?? 10000, signal: options.signal }, "syncClock")
    .then((ms) => {
      clockSet(ms);
      return ms;
    });
  const timer = am.timerAdd(every, () => {
    if (am.running) once().catch(report);
  }, { repeat: true });
  options.signal?.onAbort(() => timer.cancel());
  return once();
}
