// SPDX-License-Identifier: MIT
// Module loading from the firmware image: specifiers resolve against the table
// that xsmgc emitted, and bytecode runs from where it sits (flash on a device).
#include "xsAll.h"
#include "xm.h"
#include "xm_modules.h"

// xsmgc numbered every symbol the modules use; recreate the new names in the
// same order so that the IDs inside the bytecode mean the same keys here.
void xm_modules_check(xsMachine* the)
{
	for (int i = 0; i < xm_image.name_count; i++) {
		txID id = fxNewNameX(the, (txString)xm_image.names[i]);
		if (id != (txID)(xm_image.first_name + i)) {
			static const char why[] = "xsmg: fatal: the firmware image was linked for another engine build (key IDs differ)\n";
			port_console_write(2, why, sizeof(why) - 1);
			port_fatal(XM_EXIT_FATAL);
		}
	}
}

static const xm_module_t* lookup(const char* name)
{
	for (int i = 0; i < xm_image.module_count; i++)
		if (!strcmp(xm_image.modules[i].name, name))
			return &xm_image.modules[i];
	return NULL;
}

// Joins a relative specifier onto the importing module's folder, folding "." and "..".
static bool resolve_relative(const char* base, const char* spec, char* out, size_t size)
{
	const char* slash = strrchr(base, '/');
	size_t length = slash ? (size_t)(slash - base) : 0;
	if (length >= size)
		return false;
	memcpy(out, base, length);
	out[length] = 0;
	while (*spec) {
		const char* end = strchr(spec, '/');
		size_t part = end ? (size_t)(end - spec) : strlen(spec);
		if (part == 2 && !strncmp(spec, "..", 2)) {
			if (!length)
				return false;  // above the firmware's root
			char* up = strrchr(out, '/');
			length = up ? (size_t)(up - out) : 0;
			out[length] = 0;
		}
		else if (part && !(part == 1 && spec[0] == '.')) {
			if (length + part + 2 > size)
				return false;
			if (length)
				out[length++] = '/';
			memcpy(out + length, spec, part);
			length += part;
			out[length] = 0;
		}
		spec += part + (end ? 1 : 0);
	}
	return true;
}

static void strip_extension(char* name)
{
	static const char* const extensions[] = { ".js", ".mjs", ".ts", ".mts" };
	size_t length = strlen(name);
	for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++) {
		size_t n = strlen(extensions[i]);
		if (length > n && !strcmp(name + length - n, extensions[i])) {
			name[length - n] = 0;
			return;
		}
	}
}

txID fxFindModule(txMachine* the, txSlot* realm, txID from, txSlot* slot)
{
	(void)realm;
	char spec[128], name[128];
	fxToStringBuffer(the, slot, spec, sizeof(spec));
	strip_extension(spec);
	if (spec[0] == '.') {
		if (from == XS_NO_ID || !resolve_relative(fxGetKeyName(the, from), spec, name, sizeof(name)))
			return XS_NO_ID;
	}
	else
		snprintf(name, sizeof(name), "%s", spec);
	const xm_module_t* module = lookup(name);
	return module ? fxNewNameX(the, (txString)module->name) : XS_NO_ID;
}

void fxLoadModule(txMachine* the, txSlot* module, txID id)
{
	const xm_module_t* entry = lookup(fxGetKeyName(the, id));
	if (!entry)
		return;
	txScript script = { 0 };
	script.callback = entry->hosts;
	script.codeBuffer = (txByte*)entry->code;
	script.codeSize = (txSize)entry->size;
	script.path = (txString)entry->name;
	fxResolveModule(the, module, id, &script, C_NULL, C_NULL);
}
