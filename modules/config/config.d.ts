// SPDX-License-Identifier: MIT
/**
 * Named values that survive a restart: NVS on the ESP32, a file in the simulator
 * (see README "The config store"). Namespaces and keys are 1 to 15 ASCII
 * characters from "!" to "~" (NVS's limit, enforced on every host). Calls are
 * synchronous and run on the XS task.
 */
declare module "config" {
  /**
   * What the store holds. Numbers come back exactly as set (integers that fit
   * 32 bits are NVS i32, others the double's bits); strings are at most 3,999
   * bytes of UTF-8 with no U+0000 or lone surrogate (NVS strings are C
   * strings); Uint8Array values are at most 4,000 bytes and come back as a new
   * Uint8Array.
   */
  export type ConfigValue = string | number | boolean | Uint8Array;
  const Config: {
    /** The value, or undefined when the key is not set. Throws when the store cannot be read (a corrupt sim file, an NVS error). */
    get(namespace: string, key: string): ConfigValue | undefined;
    /** Stores the value, replacing any value (of any type) under the key; it is durable when set returns. */
    set(namespace: string, key: string, value: ConfigValue): void;
    /** Removes the key; true if it was set. */
    delete(namespace: string, key: string): boolean;
  };
  export default Config;
}
