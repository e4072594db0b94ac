// SPDX-License-Identifier: MIT
// Moddable's `timer` module on the runtime's timer list (runtime/xm_timer.c),
// which it shares with setTimeout and friends. A .js file because TypeScript
// cannot express XS's `@ "c_function"` host bindings; timer.d.ts types it.
class Timer {
	static set(callback, delay, repeat) @ "xm_timer_set";
	static repeat(callback, interval) @ "xm_timer_repeat";
	static schedule(id, delay, repeat) @ "xm_timer_schedule";
	static clear(id) @ "xm_timer_clear";
}
Object.freeze(Timer);
export default Timer;
