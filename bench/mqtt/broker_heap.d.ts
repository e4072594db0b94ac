// SPDX-License-Identifier: MIT
/** The XS machine's live slot and chunk bytes after a collection, as "slots=N chunks=N". */
export function heap(): string;
