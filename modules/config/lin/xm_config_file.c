// SPDX-License-Identifier: MIT
// The simulator's config store: one text file, read whole for every call and
// replaced whole by every change (written to FILE.tmp, flushed to disk, then
// renamed over FILE), so a crash leaves either the old store or the new one.
// Reading it for every call keeps no state between calls: the file is the truth.
// A file that does not parse is reported with its line and never rewritten.
//
// Format: the line "xsmg-config 1", then one line per value,
//   NAMESPACE KEY TYPE VALUE
// TYPE s: a string, bytes outside '!'..'~' and '%' as %XX; n: a number as
// printf's %.17g (exact for doubles; inf, -inf, nan); b: true or false;
// x: bytes in hex. The file is for the simulator only: a board keeps NVS.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../c/xm_config.h"

#define HEADER "xsmg-config 1"
#define FILE_MAX (4 * 1024 * 1024)

// Set by hosts/linux-sim/main.c from `--config FILE`; NULL means the default,
// the firmware's own path plus ".config".
extern const char* xm_sim_config_file;

typedef struct {
	char ns[XM_CONFIG_NAME_MAX + 1], key[XM_CONFIG_NAME_MAX + 1];
	xm_config_value_t value;
} entry_t;

typedef struct {
	char path[PATH_MAX];
	entry_t* entries;
	size_t count, capacity;
} store_t;

static void store_free(store_t* store)
{
	for (size_t i = 0; i < store->count; i++)
		free((void*)store->entries[i].value.data);
	free(store->entries);
	store->entries = NULL;
	store->count = store->capacity = 0;
}

static bool store_path(store_t* store, char* error)
{
	if (xm_sim_config_file) {
		if (strlen(xm_sim_config_file) >= sizeof(store->path) - 4) {
			snprintf(error, XM_CONFIG_ERROR_SIZE, "config store path too long: %.60s...", xm_sim_config_file);
			return false;
		}
		strcpy(store->path, xm_sim_config_file);
		return true;
	}
	ssize_t n = readlink("/proc/self/exe", store->path, sizeof(store->path) - 12);
	if (n < 0) {
		snprintf(error, XM_CONFIG_ERROR_SIZE, "cannot find the firmware's path for its config store: %s", strerror(errno));
		return false;
	}
	strcpy(store->path + n, ".config");
	return true;
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool name_ok(const char* s, size_t n)
{
	if (n == 0 || n > XM_CONFIG_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '!' || s[i] > '~')
			return false;
	return true;
}

// Decodes the value text of one line into e->value; a message when it is malformed.
static const char* parse_value(char type, const char* s, size_t n, entry_t* e)
{
	xm_config_value_t* v = &e->value;
	if (type == 'n') {
		char text[64], *end;
		if (n == 0 || n >= sizeof(text))
			return "a malformed number";
		memcpy(text, s, n);
		text[n] = 0;
		v->type = XM_CONFIG_NUMBER;
		v->number = strtod(text, &end);
		return *end ? "a malformed number" : NULL;
	}
	if (type == 'b') {
		v->type = XM_CONFIG_BOOLEAN;
		if (n == 4 && !memcmp(s, "true", 4))
			v->boolean = true;
		else if (!(n == 5 && !memcmp(s, "false", 5)))
			return "a boolean other than true or false";
		return NULL;
	}
	if (type != 's' && type != 'x')
		return "an unknown type (s, n, b or x expected)";
	char* data = malloc(n + 1);
	if (!data)
		return "a value too large for memory";
	size_t size = 0;
	for (size_t i = 0; i < n; size++) {
		if (type == 'x' || s[i] == '%') {
			size_t at = type == 'x' ? i : i + 1;
			int hi = at < n ? hex(s[at]) : -1, lo = at + 1 < n ? hex(s[at + 1]) : -1;
			if (hi < 0 || lo < 0) {
				free(data);
				return type == 'x' ? "malformed hex bytes" : "a malformed %XX escape";
			}
			data[size] = (char)(hi * 16 + lo);
			i = at + 2;
		} else {
			data[size] = s[i++];
		}
		if (type == 's' && data[size] == 0) {
			free(data);
			return "a string containing %00";
		}
	}
	data[size] = 0;
	v->type = type == 's' ? XM_CONFIG_STRING : XM_CONFIG_BYTES;
	v->data = data;
	v->size = size;
	size_t max = type == 's' ? XM_CONFIG_STRING_MAX : XM_CONFIG_BYTES_MAX;
	return size > max ? "a value longer than the store allows" : NULL;
}

static entry_t* find(store_t* store, const char* ns, const char* key)
{
	for (size_t i = 0; i < store->count; i++)
		if (!strcmp(store->entries[i].ns, ns) && !strcmp(store->entries[i].key, key))
			return &store->entries[i];
	return NULL;
}

static entry_t* append(store_t* store)
{
	if (store->count == store->capacity) {
		size_t capacity = store->capacity ? store->capacity * 2 : 16;
		entry_t* entries = realloc(store->entries, capacity * sizeof(entry_t));
		if (!entries)
			return NULL;
		store->entries = entries;
		store->capacity = capacity;
	}
	entry_t* e = &store->entries[store->count++];
	memset(e, 0, sizeof(*e));
	return e;
}

// Splits "NAMESPACE KEY TYPE VALUE" into e; a message when the line is malformed.
static const char* parse_line(store_t* store, const char* line, size_t n, entry_t* e)
{
	const char* field[3];
	size_t len[3], at = 0;
	for (int f = 0; f < 3; f++) {
		field[f] = line + at;
		while (at < n && line[at] != ' ')
			at++;
		len[f] = (size_t)(line + at - field[f]);
		if (at == n)
			return "fewer than four fields";
		at++;
	}
	if (!name_ok(field[0], len[0]) || !name_ok(field[1], len[1]))
		return "a namespace or key that is not 1 to 15 characters from '!' to '~'";
	memcpy(e->ns, field[0], len[0]);
	memcpy(e->key, field[1], len[1]);
	if (find(store, e->ns, e->key) != e)
		return "a key set twice";
	if (len[2] != 1)
		return "an unknown type (s, n, b or x expected)";
	return parse_value(field[2][0], line + at, n - at, e);
}

// Reads the store into memory; a missing file is an empty store.
static bool store_load(store_t* store, char* error)
{
	memset(store, 0, sizeof(*store));
	if (!store_path(store, error))
		return false;
	FILE* f = fopen(store->path, "rb");
	if (!f) {
		if (errno == ENOENT)
			return true;
		snprintf(error, XM_CONFIG_ERROR_SIZE, "cannot read the config store %.240s: %s", store->path, strerror(errno));
		return false;
	}
	char* text = malloc(FILE_MAX + 1);
	size_t size = text ? fread(text, 1, FILE_MAX + 1, f) : 0;
	bool read_error = ferror(f);
	fclose(f);
	const char* problem = !text ? "no memory to read it" : read_error ? "a read error"
		: size > FILE_MAX ? "more than 4 MiB" : NULL;
	if (problem) {
		snprintf(error, XM_CONFIG_ERROR_SIZE, "cannot read the config store %.240s: %s", store->path, problem);
		free(text);
		return false;
	}
	size_t line = 1, at = 0;
	while (at < size) {
		const char* end = memchr(text + at, '\n', size - at);
		size_t n = end ? (size_t)(end - (text + at)) : size - at;
		if (!end)
			problem = "a last line without its newline (a truncated file?)";
		else if (line == 1)
			problem = n == strlen(HEADER) && !memcmp(text, HEADER, n) ? NULL : "not the header \"" HEADER "\"";
		else if (memchr(text + at, 0, n))
			problem = "a NUL byte";
		else {
			entry_t* e = append(store);
			problem = e ? parse_line(store, text + at, n, e) : "no memory";
		}
		if (problem)
			break;
		at += n + 1;
		line++;
	}
	if (!problem && size == 0)
		problem = "nothing (not even the header \"" HEADER "\")";
	free(text);
	if (problem) {
		snprintf(error, XM_CONFIG_ERROR_SIZE, "config store %.240s is corrupt, left as it is: line %lu has %s", store->path,
			(unsigned long)line, problem);
		store_free(store);
		return false;
	}
	return true;
}

static void write_escaped(FILE* f, const xm_config_value_t* v)
{
	const unsigned char* s = v->data;
	for (size_t i = 0; i < v->size; i++) {
		if (v->type == XM_CONFIG_BYTES)
			fprintf(f, "%02x", s[i]);
		else if (s[i] < '!' || s[i] > '~' || s[i] == '%')
			fprintf(f, "%%%02X", s[i]);
		else
			fputc(s[i], f);
	}
}

// Makes a rename in path's folder durable: until the folder itself is flushed,
// a power cut may bring the old store back.
static bool sync_folder(const char* path)
{
	char folder[PATH_MAX];
	const char* slash = strrchr(path, '/');
	if (!slash)
		strcpy(folder, ".");
	else if (slash == path)
		strcpy(folder, "/");
	else
		snprintf(folder, sizeof(folder), "%.*s", (int)(slash - path), path);
	int fd = open(folder, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return false;
	bool ok = fsync(fd) == 0;
	close(fd);
	return ok;
}

// Writes the whole store to path.tmp, flushes it to disk, renames it over path
// and flushes the folder: set and delete return once the change is durable.
static bool store_save(store_t* store, char* error)
{
	char tmp[PATH_MAX + 4];
	snprintf(tmp, sizeof(tmp), "%s.tmp", store->path);
	FILE* f = fopen(tmp, "wb");
	if (!f) {
		snprintf(error, XM_CONFIG_ERROR_SIZE, "cannot write the config store %.240s: %s", tmp, strerror(errno));
		return false;
	}
	fputs(HEADER "\n", f);
	for (size_t i = 0; i < store->count; i++) {
		const entry_t* e = &store->entries[i];
		static const char types[] = { 's', 'n', 'b', 'x' };
		fprintf(f, "%s %s %c ", e->ns, e->key, types[e->value.type]);
		if (e->value.type == XM_CONFIG_NUMBER)
			fprintf(f, "%.17g", e->value.number);
		else if (e->value.type == XM_CONFIG_BOOLEAN)
			fputs(e->value.boolean ? "true" : "false", f);
		else
			write_escaped(f, &e->value);
		fputc('\n', f);
	}
	// ferror too: a write that failed while the buffer was flushed mid-way
	// leaves fflush itself with nothing to report.
	bool ok = fflush(f) == 0 && !ferror(f) && fsync(fileno(f)) == 0;
	int err = errno;
	ok = fclose(f) == 0 && ok;
	if (ok && rename(tmp, store->path) == 0) {
		if (sync_folder(store->path))
			return true;
		snprintf(error, XM_CONFIG_ERROR_SIZE, "the config store %.240s was replaced but its folder could not be flushed: %s",
			store->path, strerror(errno));
		return false;
	}
	err = ok ? errno : err;
	unlink(tmp);
	snprintf(error, XM_CONFIG_ERROR_SIZE, "cannot write the config store %.240s: %s (it is left as it was)", store->path,
		strerror(err));
	return false;
}

xm_config_status_t xm_config_backend_get(const char* ns, const char* key, xm_config_value_t* value, char* error)
{
	store_t store;
	if (!store_load(&store, error))
		return XM_CONFIG_FAILED;
	entry_t* e = find(&store, ns, key);
	xm_config_status_t status = e ? XM_CONFIG_OK : XM_CONFIG_ABSENT;
	if (e) {
		*value = e->value;
		e->value.data = NULL;  // handed over to the caller
	}
	store_free(&store);
	return status;
}

xm_config_status_t xm_config_backend_set(const char* ns, const char* key, const xm_config_value_t* value, char* error)
{
	store_t store;
	if (!store_load(&store, error))
		return XM_CONFIG_FAILED;
	void* data = NULL;
	entry_t* e = find(&store, ns, key);
	if (!e && (e = append(&store))) {
		strcpy(e->ns, ns);
		strcpy(e->key, key);
	}
	if (e && value->data) {
		data = malloc(value->size + 1);
		if (data) {
			memcpy(data, value->data, value->size);
			((char*)data)[value->size] = 0;
		}
	}
	if (!e || (value->data && !data)) {
		snprintf(error, XM_CONFIG_ERROR_SIZE, "no memory to update the config store %.240s", store.path);
		store_free(&store);
		return XM_CONFIG_FAILED;
	}
	free((void*)e->value.data);
	e->value = *value;
	e->value.data = data;
	bool saved = store_save(&store, error);
	store_free(&store);
	return saved ? XM_CONFIG_OK : XM_CONFIG_FAILED;
}

xm_config_status_t xm_config_backend_delete(const char* ns, const char* key, char* error)
{
	store_t store;
	if (!store_load(&store, error))
		return XM_CONFIG_FAILED;
	entry_t* e = find(&store, ns, key);
	xm_config_status_t status = XM_CONFIG_ABSENT;
	if (e) {
		free((void*)e->value.data);
		*e = store.entries[--store.count];
		status = store_save(&store, error) ? XM_CONFIG_OK : XM_CONFIG_FAILED;
	}
	store_free(&store);
	return status;
}
