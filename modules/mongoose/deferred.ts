// SPDX-License-Identifier: MIT
// Promise plumbing of the AsyncManager: a promise settled from outside, and the
// helpers its waiting lists use.

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** For promises settled while nobody awaits them yet: a rejection here is not fatal. */
export function ignore(): void {}

// Empties items and returns what they were. Not splice(0) on an empty array: XS then
// hands memcpy a NULL pointer, which the sanitize build (UBSan) stops on.
export function takeAll<T>(items: T[] | undefined): T[] {
  return items?.length ? items.splice(0) : [];
}
