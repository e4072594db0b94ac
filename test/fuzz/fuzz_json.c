// SPDX-License-Identifier: MIT
// libFuzzer target: JSON text, as jsonGetStr reads it: mongoose finds the value
// at "$" (mg_json_get), and a string's inside is unescaped by the core
// (core/json_unescape.c), sized first, then written into exactly that room.
// The raw input is unescaped too, as if it were a string's inside.
#include "xm_core.h"

#include <stdlib.h>

static void unescape(const char* s, size_t n)
{
	size_t size = xm_core_json_unescape(s, n, NULL);
	if (size == XM_CORE_TEXT_BAD)
		return;
	char* to = malloc(size ? size : 1);
	if (xm_core_json_unescape(s, n, to) != size)
		__builtin_trap();
	free(to);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	char* copy = malloc(size ? size : 1);  // its own allocation: ASan sees a read past it
	if (size)
		memcpy(copy, data, size);
	struct mg_str json = mg_str_n(copy, size);
	int len = 0, ofs = mg_json_get(json, "$", &len);
	if (ofs >= 0 && len >= 2 && copy[ofs] == '"')
		unescape(copy + ofs + 1, (size_t)len - 2);
	unescape(copy, size);
	free(copy);
	return 0;
}
