// SPDX-License-Identifier: MIT
/** Moddable-compatible timers. Callbacks receive their own timer id. */
declare module "timer" {
  export type TimerCallback = (id: TimerID) => void;
  const Timer: {
    /** Calls callback once after delay ms (0 if omitted); then every repeat ms if repeat is given. */
    set(callback: TimerCallback, delay?: number, repeat?: number): TimerID;
    /** Calls callback every interval ms. */
    repeat(callback: TimerCallback, interval: number): TimerID;
    /** Reschedules a timer; with no delay the timer sleeps until scheduled again. */
    schedule(id: TimerID, delay?: number, repeat?: number): void;
    /** Cancels a timer; unknown or finished ids are ignored. */
    clear(id: TimerID | undefined): void;
  };
  export default Timer;
}
