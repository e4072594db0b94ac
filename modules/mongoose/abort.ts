// SPDX-License-Identifier: MIT
// Cancelling and deadlines for the AsyncManager's connect, fetch and sleep: the
// engine has no AbortController, so the module exports its own.
import { takeAll } from "mongoose/deferred";

/** A cancel signal for connect, fetch and sleep (XS has no AbortController). */
export class AbortSignal {
  #aborted = false;
  #reason: unknown = undefined;
  #listeners: Array<(reason: unknown) => void> = [];
  get aborted(): boolean {
    return this.#aborted;
  }
  get reason(): unknown {
    return this.#reason;
  }
  onAbort(listener: (reason: unknown) => void): void {
    if (this.#aborted) listener(this.#reason);
    else this.#listeners.push(listener);
  }
  /** @internal */
  static _abort(signal: AbortSignal, reason: unknown): void {
    if (signal.#aborted) return;
    signal.#aborted = true;
    signal.#reason = reason;
    for (const listener of takeAll(signal.#listeners)) listener(reason);
  }
}

export class AbortController {
  readonly signal = new AbortSignal();
  abort(reason: unknown = new Error("aborted")): void {
    AbortSignal._abort(this.signal, reason);
  }
}

/** Settles like promise, or rejects after ms / on abort (resolves instead when timeoutResolves). */
export function withDeadline<T>(promise: Promise<T>, ms: number, signal: AbortSignal | undefined, what: string,
  timeoutResolves = false): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (timeoutResolves) resolve(undefined as T);
      else reject(new Error(`${what}: timed out after ${ms} ms`));
    }, ms);
    signal?.onAbort((reason) => {
      clearTimeout(timer);
      reject(reason);
    });
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}
