// SPDX-License-Identifier: MIT
// This host's build constants of the binding, as TypeScript values, so that the
// mongoose modules can be preloaded (run at build time) without calling C.
// Manager checks them against the C binding once, on its first construction.

/** XM_MG_WAKEUP_MAX: MG_IO_SIZE (mongoose's default 512 here) less the connection id (4 bytes on 32-bit). */
export const WAKEUP_MAX_BYTES = 508;
