// SPDX-License-Identifier: MIT
// bench/mqtt's view of the XS heap from JavaScript (broker_heap.c).
export function heap() @ "bench_broker_heap";
