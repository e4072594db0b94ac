// SPDX-License-Identifier: MIT
// The config store: c/xm_config.c checks names and values the same way on every
// host, and the host's backend keeps them (lin/: a file, esp32/: NVS). A .js
// file because TypeScript cannot express `@ "c_name"`; config.d.ts types it.
class Config {
	static get(namespace, key) @ "xm_config_get";
	static set(namespace, key, value) @ "xm_config_set";
	static delete(namespace, key) @ "xm_config_delete";
}
Object.freeze(Config);
export default Config;
