// SPDX-License-Identifier: MIT
// The board's NVS kept in a file of this machine across runs (xsmg run
// --config FILE), as a device's NVS partition survives a restart: read into
// nvs_ram.c at boot, written whole at every commit, through semihosting (the
// C library's files, and rename). One line per item, after a version line:
//   xsmg-nvs 1
//   <namespace> <key> <type> <hex>
// type is nvs_ram's (u8, i32, u64, str, blob); hex is a number's 64 stored
// bits as 16 digits (an i32 sign-extended), or the bytes of a string (its NUL
// included) or a blob, possibly none. Names hold no spaces (the config store
// allows '!' to '~'). A commit writes FILE.tmp, then renames it over FILE, so
// a run stopped mid-write leaves the previous store whole.
#include "nvs_file.h"
#include "nvs_ram.h"

#include <errno.h>
#include <semihost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvs.h"

#define VERSION_LINE "xsmg-nvs 1"
// The longest line: two names, a type, 4,000 bytes (the config store's limit)
// in hex, spaces, newline and NUL; a longer one is refused.
#define LINE_MAX (16 + 16 + 5 + 2 * 4000 + 2)

static const char* file;

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// Decodes hex into out (room for strlen(hex) / 2 bytes); the count, or -1.
static long unhex(const char* hex, uint8_t* out)
{
	size_t n = strlen(hex);
	if (n % 2)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int high = hex_digit(hex[i]), low = hex_digit(hex[i + 1]);
		if (high < 0 || low < 0)
			return -1;
		out[i / 2] = (uint8_t)(high * 16 + low);
	}
	return (long)(n / 2);
}

// One item line (without its newline) into nvs_ram; false if malformed or refused.
static bool load_line(char* text, uint8_t* bytes)
{
	char* fields[4];
	for (int i = 0; i < 3; i++)
		if (!(fields[i] = strsep(&text, " ")) || !*fields[i])
			return false;
	fields[3] = text;
	long size = fields[3] ? unhex(fields[3], bytes) : -1;
	if (size < 0)
		return false;
	uint64_t number = 0;
	for (long i = 0; i < size; i++)
		number = number << 8 | bytes[i];
	const char* type = fields[2];
	bool is_number = !strcmp(type, "u8") || !strcmp(type, "i32") || !strcmp(type, "u64");
	if (is_number && size != 8)
		return false;
	if (!strcmp(type, "str") && (size == 0 || memchr(bytes, 0, (size_t)size) != bytes + size - 1))
		return false;
	nvs_handle_t h;
	esp_err_t err = nvs_open(fields[0], NVS_READWRITE, &h);
	if (err != ESP_OK)
		return false;
	if (!strcmp(type, "u8"))
		err = nvs_set_u8(h, fields[1], (uint8_t)number);
	else if (!strcmp(type, "i32"))
		err = nvs_set_i32(h, fields[1], (int32_t)(int64_t)number);
	else if (!strcmp(type, "u64"))
		err = nvs_set_u64(h, fields[1], number);
	else if (!strcmp(type, "str"))
		err = nvs_set_str(h, fields[1], (const char*)bytes);
	else if (!strcmp(type, "blob"))
		err = nvs_set_blob(h, fields[1], bytes, (size_t)size);
	else
		err = ESP_FAIL;
	nvs_close(h);
	return err == ESP_OK;
}

static esp_err_t save(void)
{
	char tmp[strlen(file) + 5];
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	FILE* f = fopen(tmp, "w");
	bool ok = f && fputs(VERSION_LINE "\n", f) >= 0;
	const char *ns, *key, *type;
	uint64_t number;
	const uint8_t* data;
	size_t size;
	for (size_t i = 0; ok && nvs_ram_item(i, &ns, &key, &type, &number, &data, &size); i++) {
		ok = fprintf(f, "%s %s %s ", ns, key, type) > 0;
		if (!data)
			ok = ok && fprintf(f, "%08lx%08lx", (unsigned long)(number >> 32), (unsigned long)(number & 0xffffffffu)) > 0;
		for (size_t b = 0; ok && b < size; b++)
			ok = fprintf(f, "%02x", data[b]) > 0;
		ok = ok && fputc('\n', f) != EOF;
	}
	if (f && fclose(f) != 0)
		ok = false;
	if (ok && sys_semihost_rename(tmp, file) != 0)
		ok = false;
	if (!ok) {
		fprintf(stderr, "xsmg: config file %s: cannot write it (through %s)\n", file, tmp);
		return ESP_FAIL;
	}
	return ESP_OK;
}

bool nvs_file_open(const char* path)
{
	file = path;
	nvs_ram_committed = save;
	FILE* f = fopen(path, "r");
	if (!f)
		return errno == ENOENT; // no store yet: the first commit makes it
	char* text = malloc(LINE_MAX);
	uint8_t* bytes = malloc(LINE_MAX / 2);
	bool ok = text && bytes && fgets(text, LINE_MAX, f) && !strcmp(text, VERSION_LINE "\n");
	unsigned number = 1;
	while (ok && fgets(text, LINE_MAX, f)) {
		number++;
		size_t n = strlen(text);
		ok = n && text[n - 1] == '\n';
		if (ok) {
			text[n - 1] = 0;
			ok = load_line(text, bytes);
		}
	}
	if (!ok)
		fprintf(stderr, "xsmg: fatal: config file %s: line %u is not what the board writes (\"" VERSION_LINE
			"\", then <namespace> <key> <type> <hex>)\n", path, number);
	fclose(f);
	free(text);
	free(bytes);
	return ok;
}
