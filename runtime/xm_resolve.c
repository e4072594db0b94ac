// SPDX-License-Identifier: MIT
// Module specifiers to image names, shared by the runtime (xm_modules.c) and the
// build machine's linker (xsmgc preloads modules with the same rules).
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "xm_resolve.h"

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

bool xm_resolve(const char* from, char* spec, char* out, size_t size)
{
	strip_extension(spec);
	if (spec[0] != '.') {
		snprintf(out, size, "%s", spec);
		return true;
	}
	return from && resolve_relative(from, spec, out, size);
}
