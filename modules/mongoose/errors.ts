// SPDX-License-Identifier: MIT
// What both managers do with an error a handler threw (or, on the AsyncManager,
// rejected with): give it to the errorHandler, and lose nothing when that throws too.
import { eventName } from "mongoose/constants";

/** The errorHandler both managers use unless given one. */
export function defaultErrorHandler(error: unknown, conn: { readonly id: number } | undefined, ev: number): void {
  console.error(`mongoose: handler of ${eventName(ev)} on connection ${conn?.id ?? "-"} failed:`, error);
}

/** Calls errorHandler; when it throws in turn, both errors go to console.error. */
export function reportError<C extends { readonly id: number } | undefined>(errorHandler: (error: unknown, conn: C, ev: number) => void,
  error: unknown, conn: C, ev: number): void {
  try {
    errorHandler(error, conn, ev);
  } catch (again) {
    // error becomes again's cause, as an error raised while handling another would
    // carry it, unless again already has one (or is not an object).
    if (again instanceof Error && !Object.hasOwn(again, "cause"))
      Object.defineProperty(again, "cause", { value: error, writable: true, configurable: true });
    console.error("mongoose: the errorHandler threw:", again,
      `\nwhile given this error of ${eventName(ev)} on connection ${conn?.id ?? "-"}:`, error);
  }
}
