// SPDX-License-Identifier: MIT
// Moddable's `instrumentation` module: named counters read by index, the index
// found once by name. c/xm_instrumentation.c holds the names and reads the
// values. A .js file because TypeScript cannot express `@ "c_name"`;
// instrumentation.d.ts types it.
class Instrumentation {
	static get(index) @ "xm_instrumentation_get";
	static map(name) @ "xm_instrumentation_map";
	static name(index) @ "xm_instrumentation_name";
}
Object.freeze(Instrumentation);
export default Instrumentation;
