// SPDX-License-Identifier: MIT
// The firmware's run options from its semihosting command line (QEMU's
// -semihosting-config arg=...): a program name, then the options as words
// separated by single spaces, a space, comma or % inside a word written %XX
// (host.mjs), since QEMU joins the words with spaces. The simulator takes the
// same options as its process arguments (hosts/linux-sim/main.c).
#include "board_args.h"

#include <semihost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

board_args_t board_args;

// The longest command line taken. Malloc'd for the reading only, not 4 KiB of
// bss for the whole run: --config's path, read at every commit, is copied.
#define LINE_MAX_BYTES 4096

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

// Decodes %XX in place; false for a % not followed by two hex digits.
static bool decode(char* word)
{
	char* out = word;
	for (const char* in = word; *in; in++) {
		if (*in != '%') {
			*out++ = *in;
			continue;
		}
		int high = hex_digit(in[1]), low = high < 0 ? -1 : hex_digit(in[2]);
		if (low < 0)
			return false;
		*out++ = (char)(high * 16 + low);
		in += 2;
	}
	*out = 0;
	return true;
}

static bool parse(char* line)
{
	char* rest = line;
	strsep(&rest, " "); // the program's name
	for (char* word; (word = strsep(&rest, " ")) != NULL;) {
		char* path = NULL;
		char* end = NULL;
		if (!strcmp(word, "--stats"))
			board_args.stats = true;
		else if (!strcmp(word, "--timeout") && rest && (board_args.timeout = strtod(strsep(&rest, " "), &end)) > 0 && !*end)
			continue;
		else if (!strcmp(word, "--config") && (path = strsep(&rest, " ")) != NULL && decode(path) && *path) {
			if (!(board_args.config_file = strdup(path))) {
				fprintf(stderr, "xsmg: fatal: no memory for the --config path\n");
				return false;
			}
		} else if (*word) {
			fprintf(stderr, "xsmg: fatal: the board does not take \"%s\"%s (it takes --stats, --config FILE, --timeout SECONDS)\n", word,
				path ? " with that file name" : "");
			return false;
		}
	}
	return true;
}

bool board_args_read(void)
{
	char* line = malloc(LINE_MAX_BYTES);
	if (!line) {
		fprintf(stderr, "xsmg: fatal: no memory to read the board's command line\n");
		return false;
	}
	// QEMU refuses a command line longer than the buffer (E2BIG) rather than cut it.
	bool ok = sys_semihost_get_cmdline(line, LINE_MAX_BYTES) == 0;
	if (!ok)
		fprintf(stderr, "xsmg: fatal: the board's command line is longer than %u bytes\n", (unsigned)LINE_MAX_BYTES);
	ok = ok && parse(line);
	free(line);
	return ok;
}
