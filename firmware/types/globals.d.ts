// SPDX-License-Identifier: MIT
// Globals the xs-mongoose runtime installs in every firmware (runtime/xm_console.c,
// runtime/xm_timer.c). The language itself is ES2022, as the XS engine implements it.

interface Console {
  log(...values: unknown[]): void;
  info(...values: unknown[]): void;
  debug(...values: unknown[]): void;
  warn(...values: unknown[]): void;
  error(...values: unknown[]): void;
}
declare var console: Console;

/** Moddable's trace(): writes its arguments to the log with no newline added. */
declare function trace(...values: unknown[]): void;

/** A timer handle; pass it back to clearTimeout/clearInterval (or Timer.clear). */
type TimerID = number & { readonly __timer?: never };

declare function setTimeout<A extends unknown[]>(callback: (...args: A) => void, ms?: number, ...args: A): TimerID;
declare function setTimeout(callback: (_: void) => void, ms?: number): TimerID;  // new Promise((resolve) => setTimeout(resolve, ms))
declare function setInterval<A extends unknown[]>(callback: (...args: A) => void, ms?: number, ...args: A): TimerID;
declare function setInterval(callback: (_: void) => void, ms?: number): TimerID;
declare function clearTimeout(id: TimerID | undefined): void;
declare function clearInterval(id: TimerID | undefined): void;
