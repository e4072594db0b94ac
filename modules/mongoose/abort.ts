// SPDX-License-Identifier: MIT
// Cancelling and deadlines for the AsyncManager's connect, fetch and sleep: the
// engine has no AbortController, so the module exports its own.

/** A cancel signal for connect, fetch and sleep (XS has no AbortController). */
export class AbortSignal {
  #reason: unknown = undefined;
  #listeners: Array<(reason: unknown) => void> | undefined = [];
  get aborted(): boolean {
    return this.#listeners === undefined;
  }
  get reason(): unknown {
    return this.#reason;
  }
  onAbort(listener: (reason: unknown) => void): void {
    if (this.#listeners) this.#listeners.push(listener);
    else listener(this.#reason);
  }
  /** @internal */
  static _abort(signal: AbortSignal, reason: unknown): void {
    const listeners = signal.#listeners;
    if (!listeners) return;
    signal.#listeners = undefined;
    signal.#reason = reason;
    for (const listener of listeners) listener(reason);
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
