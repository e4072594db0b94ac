// SPDX-License-Identifier: MIT
// Promise plumbing of the AsyncManager: a promise settled from outside, and the
// queue behind its async iterators.

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

// The settlers of the promise being made: one executor for every deferred, which
// the constructor calls at once, so that none makes closures of its own (the
// AsyncManager makes one per command).
let resolveNew: (value: never) => void;
let rejectNew: (error: unknown) => void;
function capture(resolve: (value: never) => void, reject: (error: unknown) => void): void {
  resolveNew = resolve;
  rejectNew = reject;
}

export function deferred<T>(): Deferred<T> {
  const made = { promise: new Promise<T>(capture), resolve: resolveNew, reject: rejectNew };
  // Not kept here: they hold the promise, and with it what it settles with.
  resolveNew = rejectNew = ignore;
  return made;
}

/** For promises settled while nobody awaits them yet: a rejection here is not fatal. */
export function ignore(): void {}

/**
 * The queue behind an async iterator of messages: what arrived before it was
 * asked for, the readers waiting for the next, and the error that ended it.
 */
export class Inbox<T> {
  readonly #items: T[] = [];
  readonly #waiting: Array<(result: IteratorResult<T> | Promise<never>) => void> = [];
  #error: unknown;
  push(item: T): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter({ value: item, done: false });
    else this.#items.push(item);
  }
  /** The next item; then the error release() left, once; then the end when ended (the source closed, the reader left). */
  next(ended: boolean): Promise<IteratorResult<T>> {
    if (this.#items.length) return Promise.resolve({ value: this.#items.shift()!, done: false });
    const error = this.#error;
    this.#error = undefined;
    if (error) return Promise.reject(error);
    if (ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
  /**
   * Ends the iteration of the readers waiting now, or with an error rejects them
   * (none waiting: the next read rejects); resolves as an iterator's return() does.
   */
  release(error?: Error): Promise<IteratorResult<T>> {
    // Not splice(0) on an empty array: XS then hands memcpy a NULL pointer, which
    // the sanitize build (UBSan) stops on.
    const waiting = this.#waiting.length ? this.#waiting.splice(0) : [];
    if (error && !waiting.length) this.#error = error;
    waiting.forEach((w) => w(error ? Promise.reject(error) : { value: undefined, done: true }));
    return Promise.resolve({ value: undefined, done: true });
  }
}
