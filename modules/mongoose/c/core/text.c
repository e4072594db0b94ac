// SPDX-License-Identifier: MIT
// Text between mongoose's bytes and XS strings. XS keeps strings as C strings in
// its own UTF-8: U+0000 as C0 80, and a surrogate pair made by concatenation as
// two 3-byte halves. Bytes from the network may be anything, and the engine reads
// past the end of an invalid sequence, so every string made from bytes goes
// through xm_core_text_fill, and every string sent goes through xm_core_xs_to_utf8.
#include "xm_core.h"

// The length of the UTF-8 sequence at s (n bytes left), or 0 when it is not
// one. In the bytes of an XS string (xs) C0 80 is U+0000, else an overlong.
size_t xm_core_utf8_length(const unsigned char* s, size_t n, bool xs)
{
	unsigned char c = s[0];
	size_t len;
	if (c < 0x80)
		return 1;
	if (c == 0xc0)
		return xs && n >= 2 && s[1] == 0x80 ? 2 : 0;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xf0 && s[1] < 0x90))
		return 0;  // overlong
	if ((c == 0xed && s[1] >= 0xa0) || (c == 0xf4 && s[1] >= 0x90))
		return 0;  // a surrogate, or past U+10FFFF
	return len;
}

const char xm_core_replacement[3] = { (char)0xef, (char)0xbf, (char)0xbd };  // U+FFFD

// The size of bytes as an XS string: a NUL byte takes two (C0 80), a byte that
// starts no UTF-8 sequence becomes U+FFFD, or makes the result BAD when strict.
size_t xm_core_text_size(const char* s, size_t n, bool strict, bool xs)
{
	size_t size = 0;
	for (size_t i = 0; i < n;) {
		size_t len = xm_core_utf8_length((const unsigned char*)s + i, n - i, xs);
		if (len == 0) {
			if (strict)
				return XM_CORE_TEXT_BAD;
			size += sizeof(xm_core_replacement);
			i++;
		} else {
			size += s[i] == 0 ? 2 : len;
			i += len;
		}
	}
	return size;
}

void xm_core_text_fill(char* to, const char* s, size_t n, bool xs)
{
	for (size_t i = 0; i < n;) {
		size_t len = xm_core_utf8_length((const unsigned char*)s + i, n - i, xs);
		if (len == 0) {
			memcpy(to, xm_core_replacement, sizeof(xm_core_replacement));
			to += sizeof(xm_core_replacement);
			i++;
		} else if (s[i] == 0) {
			*to++ = (char)0xc0;
			*to++ = (char)0x80;
			i++;
		} else {
			memcpy(to, s + i, len);
			to += len;
			i += len;
		}
	}
	*to = 0;
}

size_t xm_core_put_code_point(char* to, long c)
{
	char buf[4];
	size_t n;
	if (!to)
		to = buf;
	if (c == 0) {
		to[0] = (char)0xc0, to[1] = (char)0x80, n = 2;
	} else if (c < 0x80) {
		to[0] = (char)c, n = 1;
	} else if (c < 0x800) {
		to[0] = (char)(0xc0 | (c >> 6)), to[1] = (char)(0x80 | (c & 0x3f)), n = 2;
	} else if (c < 0x10000) {
		// a lone surrogate too: XS keeps those as three bytes
		to[0] = (char)(0xe0 | (c >> 12)), to[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		to[2] = (char)(0x80 | (c & 0x3f)), n = 3;
	} else {
		to[0] = (char)(0xf0 | (c >> 18)), to[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		to[2] = (char)(0x80 | ((c >> 6) & 0x3f)), to[3] = (char)(0x80 | (c & 0x3f)), n = 4;
	}
	return n;
}

// Writes (or, with out NULL, sizes) the UTF-8 of an XS string: XS keeps U+0000
// as C0 80 and may keep a surrogate pair as two 3-byte halves (after
// concatenation); standard UTF-8 has 00 and one 4-byte sequence, and a lone
// surrogate becomes U+FFFD (as TextEncoder does).
size_t xm_core_xs_to_utf8(const unsigned char* s, size_t n, unsigned char* out)
{
	size_t size = 0;
	for (size_t i = 0; i < n;) {
		if (s[i] == 0xc0 && i + 1 < n && s[i + 1] == 0x80) {
			if (out)
				out[size] = 0;
			size++, i += 2;
		} else if (s[i] == 0xed && i + 2 < n && s[i + 1] >= 0xa0) {
			long cp = 0xd000 | ((s[i + 1] & 0x3f) << 6) | (s[i + 2] & 0x3f), low = 0;
			if (cp < 0xdc00 && i + 5 < n && s[i + 3] == 0xed && s[i + 4] >= 0xb0)
				low = 0xd000 | ((s[i + 4] & 0x3f) << 6) | (s[i + 5] & 0x3f);
			if (low) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
				if (out)
					xm_core_put_code_point((char*)out + size, cp);
				size += 4, i += 6;
			} else {
				if (out)
					memcpy(out + size, xm_core_replacement, sizeof(xm_core_replacement));
				size += sizeof(xm_core_replacement), i += 3;
			}
		} else {
			if (out)
				out[size] = s[i];
			size++, i++;
		}
	}
	return size;
}

