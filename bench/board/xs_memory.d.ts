// SPDX-License-Identifier: MIT
/** The board's heaps and the XS machine's, as one line of name=bytes pairs (after a garbage collection). */
export function memory(): string;
