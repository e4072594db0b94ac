// SPDX-License-Identifier: MIT
/**
 * Moddable's instrumentation: the firmware's own health figures, for an app to
 * report (see README "Instrumentation" for what each counts on each host).
 * Indices differ between builds, as in Moddable: find them with map().
 * Calls are synchronous and run on the XS task.
 */
declare module "instrumentation" {
  export type InstrumentationName =
    | "Network Sockets"
    | "Timers"
    | "System Free Memory"
    | "XS Slot Heap Used"
    | "XS Chunk Heap Used"
    | "XS Keys Used"
    | "XS Garbage Collection Count";
  const Instrumentation: {
    /** The counter's index, or undefined when this firmware has no counter of that name. */
    map(name: string): number | undefined;
    /** The counter's value now, or undefined for an index map() never returns. */
    get(index: number): number | undefined;
    /** The counter's name, or undefined for an index map() never returns. */
    name(index: number): InstrumentationName | undefined;
  };
  export default Instrumentation;
}
