// SPDX-License-Identifier: MIT
// JSON string unescaping (core/json_unescape.c), in XS's UTF-8.
#include "check.h"
#include "core_support.h"

#include <stdlib.h>

// Unescapes text (sized first, as jsonGetStr does) and compares with want (want_len bytes).
static bool unescapes_to(const char* text, const char* want, size_t want_len)
{
	size_t n = strlen(text);
	size_t size = xm_core_json_unescape(text, n, NULL);
	if (size != want_len)
		return false;
	char* out = malloc(size + 1);
	size_t written = xm_core_json_unescape(text, n, out);
	bool ok = written == size && memcmp(out, want, size) == 0;
	free(out);
	return ok;
}

#define UNESCAPES(text, want) CHECK(unescapes_to(text, want, sizeof(want) - 1))

static void test_json_unescape(void)
{
	UNESCAPES("plain", "plain");
	UNESCAPES("", "");
	UNESCAPES("a\\\"b\\\\c\\/d", "a\"b\\c/d");
	UNESCAPES("\\b\\f\\n\\r\\t", "\b\f\n\r\t");
	UNESCAPES("Zo\\u00EB", "Zo\xc3\xab");
	UNESCAPES("\\u20ac", "\xe2\x82\xac");
	UNESCAPES("\\ud83d\\ude00", "\xf0\x9f\x98\x80");  // a surrogate pair: one code point
	UNESCAPES("\\ud83dx", "\xed\xa0\xbdx");          // a lone surrogate: XS keeps 3 bytes
	UNESCAPES("\\u0000", "\xc0\x80");                // U+0000 as XS keeps it
	UNESCAPES("Zo\xc3\xab", "Zo\xc3\xab");           // UTF-8 passes
	UNESCAPES("a\xff" "b", "a\xef\xbf\xbd" "b");     // a byte that is no UTF-8: U+FFFD
	UNESCAPES("\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd");  // a sequence cut short
}

static void test_json_unescape_bad(void)
{
	static const char* const bad[] = { "\\", "a\\x", "\\u12", "\\u12g4", "\\U0041", "\\'" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(xm_core_json_unescape(bad[i], strlen(bad[i]), NULL) == XM_CORE_TEXT_BAD);
}

const test_case_t core_json_tests[] = {
	{ "core: JSON unescape", test_json_unescape, false },
	{ "core: JSON unescape refuses bad escapes", test_json_unescape_bad, false },
	{ NULL, NULL, false },
};
