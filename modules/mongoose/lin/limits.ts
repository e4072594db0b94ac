// SPDX-License-Identifier: MIT
// This host's build constants of the binding, as TypeScript values, so that the
// mongoose modules can be preloaded (run at build time) without calling C.
// Manager checks them against the C binding once, on its first construction.

/** XM_MG_WAKEUP_MAX: MG_IO_SIZE (16,384 on Linux) less the connection id (8 bytes). */
export const WAKEUP_MAX_BYTES = 16376;
