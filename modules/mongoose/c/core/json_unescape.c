// SPDX-License-Identifier: MIT
// The inside of a JSON string, unescaped into XS's UTF-8 (jsonGetStr): bytes
// that are not UTF-8 become U+FFFD, \u0000 becomes C0 80 as XS keeps it.
#include "xm_core.h"

// Four hex digits after "\u", or -1.
static long hex4(const char* s, size_t n)
{
	uint16_t v;
	return n >= 4 && mg_str_to_num(mg_str_n(s, 4), 16, &v, sizeof(v)) ? v : -1;
}

// mg_json_unescape keeps only \u00XX, so \u escapes are decoded here,
// surrogate pairs included; an unknown escape is XM_CORE_TEXT_BAD.
size_t xm_core_json_unescape(const char* s, size_t n, char* to)
{
	size_t size = 0;
	for (size_t i = 0; i < n;) {
		if (s[i] != '\\') {
			size_t len = xm_core_utf8_length((const unsigned char*)s + i, n - i, false);
			if (len == 0) {
				if (to)
					memcpy(to + size, xm_core_replacement, 3);
				size += 3;
				i++;
			} else {
				if (to)
					memcpy(to + size, s + i, len);
				size += len;
				i += len;
			}
			continue;
		}
		if (i + 1 >= n)
			return XM_CORE_TEXT_BAD;
		char c = s[i + 1], out;
		i += 2;
		switch (c) {
		case '"': out = '"'; break;
		case '\\': out = '\\'; break;
		case '/': out = '/'; break;
		case 'b': out = '\b'; break;
		case 'f': out = '\f'; break;
		case 'n': out = '\n'; break;
		case 'r': out = '\r'; break;
		case 't': out = '\t'; break;
		case 'u': {
			long cp = hex4(s + i, n - i);
			if (cp < 0)
				return XM_CORE_TEXT_BAD;
			i += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u') {
				long low = hex4(s + i + 2, n - i - 2);
				if (low >= 0xdc00 && low <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
					i += 6;
				}
			}
			size += xm_core_put_code_point(to ? to + size : NULL, cp);
			continue;
		}
		default:
			return XM_CORE_TEXT_BAD;
		}
		if (to)
			to[size] = out;
		size++;
	}
	return size;
}
