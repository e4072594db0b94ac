// SPDX-License-Identifier: MIT
// NVS in RAM, for the virtual board (which has no flash partition) and for
// test/config-nvs: the calls the config store (modules/config/esp32) and wifi.c
// make, as ESP-IDF documents them. A read-only open of an unknown namespace
// fails; a set replaces a key's value and type; strings are read with their
// NUL; a too small buffer is ESP_ERR_NVS_INVALID_LENGTH; esp_err_to_name names
// the codes returned. Values last until the board powers off, unless a commit
// hook keeps them (nvs_ram_committed: the board's --config file). One task at a
// time (the XS task).
#include "nvs_ram.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nvs.h"
#include "nvs_flash.h"

// ESP-IDF's codes for what the config store can meet here.
#define ESP_ERR_NVS_READ_ONLY (ESP_ERR_NVS_BASE + 0x04)
#define ESP_ERR_NVS_NOT_ENOUGH_SPACE (ESP_ERR_NVS_BASE + 0x05)
#define ESP_ERR_NVS_INVALID_HANDLE (ESP_ERR_NVS_BASE + 0x07)
#define ESP_ERR_NVS_KEY_TOO_LONG (ESP_ERR_NVS_BASE + 0x09)
#define ESP_ERR_NVS_INVALID_LENGTH (ESP_ERR_NVS_BASE + 0x0c)

// NVS's limits: 15 characters per namespace and key; the counts are ours.
#define NAME_MAX 16
#define ITEMS 64
#define SPACES 8

enum type { U8, I32, U64, STR, BLOB };

typedef struct {
	char ns[NAME_MAX], key[NAME_MAX];
	enum type type;
	uint64_t number;
	uint8_t* data;
	size_t size;
} item_t;

bool nvs_ram_type_mismatch;
static item_t items[ITEMS];
static size_t item_count;
static char spaces[SPACES][NAME_MAX];
static size_t space_count;
static int opens;

// A handle is a namespace's index and the open mode.
#define HANDLE(space, mode) ((nvs_handle_t)((space) * 2 + (mode)))
#define HANDLE_SPACE(h) ((h) / 2)
#define HANDLE_WRITES(h) ((h) & 1)

const char* esp_err_to_name(esp_err_t code)
{
	switch (code) {
	case ESP_OK: return "ESP_OK";
	case ESP_FAIL: return "ESP_FAIL";
	case ESP_ERR_NO_MEM: return "ESP_ERR_NO_MEM";
	case ESP_ERR_NVS_NOT_FOUND: return "ESP_ERR_NVS_NOT_FOUND";
	case ESP_ERR_NVS_TYPE_MISMATCH: return "ESP_ERR_NVS_TYPE_MISMATCH";
	case ESP_ERR_NVS_READ_ONLY: return "ESP_ERR_NVS_READ_ONLY";
	case ESP_ERR_NVS_NOT_ENOUGH_SPACE: return "ESP_ERR_NVS_NOT_ENOUGH_SPACE";
	case ESP_ERR_NVS_INVALID_HANDLE: return "ESP_ERR_NVS_INVALID_HANDLE";
	case ESP_ERR_NVS_KEY_TOO_LONG: return "ESP_ERR_NVS_KEY_TOO_LONG";
	case ESP_ERR_NVS_INVALID_LENGTH: return "ESP_ERR_NVS_INVALID_LENGTH";
	default: return "ERROR";
	}
}

esp_err_t nvs_flash_init(void)
{
	return ESP_OK;
}

esp_err_t nvs_flash_erase(void)
{
	for (size_t i = 0; i < item_count; i++)
		free(items[i].data);
	item_count = space_count = 0;
	return ESP_OK;
}

esp_err_t nvs_open(const char* name, nvs_open_mode_t mode, nvs_handle_t* out)
{
	if (strlen(name) >= NAME_MAX)
		return ESP_ERR_NVS_KEY_TOO_LONG;
	size_t i = 0;
	while (i < space_count && strcmp(spaces[i], name))
		i++;
	if (i == space_count) {
		if (mode == NVS_READONLY)
			return ESP_ERR_NVS_NOT_FOUND;
		if (space_count == SPACES)
			return ESP_ERR_NVS_NOT_ENOUGH_SPACE;
		strcpy(spaces[space_count++], name);
	}
	*out = HANDLE(i, mode == NVS_READWRITE);
	opens++;
	return ESP_OK;
}

void nvs_close(nvs_handle_t h)
{
	(void)h;
	opens--;
}

esp_err_t (*nvs_ram_committed)(void);

esp_err_t nvs_commit(nvs_handle_t h)
{
	if (HANDLE_SPACE(h) >= space_count)
		return ESP_ERR_NVS_INVALID_HANDLE;
	return nvs_ram_committed ? nvs_ram_committed() : ESP_OK;
}

static item_t* find(nvs_handle_t h, const char* key)
{
	for (size_t i = 0; i < item_count; i++)
		if (!strcmp(items[i].ns, spaces[HANDLE_SPACE(h)]) && !strcmp(items[i].key, key))
			return &items[i];
	return NULL;
}

static esp_err_t lookup(nvs_handle_t h, const char* key, enum type type, item_t** out)
{
	*out = find(h, key);
	if (!*out)
		return ESP_ERR_NVS_NOT_FOUND;
	if ((*out)->type != type)
		return nvs_ram_type_mismatch ? ESP_ERR_NVS_TYPE_MISMATCH : ESP_ERR_NVS_NOT_FOUND;
	return ESP_OK;
}

static esp_err_t put(nvs_handle_t h, const char* key, enum type type, uint64_t number, const void* data, size_t size)
{
	if (!HANDLE_WRITES(h))
		return ESP_ERR_NVS_READ_ONLY;
	if (strlen(key) >= NAME_MAX)
		return ESP_ERR_NVS_KEY_TOO_LONG;
	uint8_t* copy = NULL;
	if (data) {
		copy = malloc(size ? size : 1);
		if (!copy)
			return ESP_ERR_NO_MEM;
		memcpy(copy, data, size);
	}
	item_t* it = find(h, key);
	if (!it) {
		if (item_count == ITEMS) {
			free(copy);
			return ESP_ERR_NVS_NOT_ENOUGH_SPACE;
		}
		it = &items[item_count++];
		strcpy(it->ns, spaces[HANDLE_SPACE(h)]);
		strcpy(it->key, key);
	}
	free(it->data);
	it->type = type;
	it->number = number;
	it->data = copy;
	it->size = size;
	return ESP_OK;
}

esp_err_t nvs_erase_key(nvs_handle_t h, const char* key)
{
	if (!HANDLE_WRITES(h))
		return ESP_ERR_NVS_READ_ONLY;
	item_t* it = find(h, key);
	if (!it)
		return ESP_ERR_NVS_NOT_FOUND;
	free(it->data);
	*it = items[--item_count];
	return ESP_OK;
}

esp_err_t nvs_set_u8(nvs_handle_t h, const char* key, uint8_t v)
{
	return put(h, key, U8, v, NULL, 0);
}

esp_err_t nvs_set_i32(nvs_handle_t h, const char* key, int32_t v)
{
	return put(h, key, I32, (uint64_t)(int64_t)v, NULL, 0);
}

esp_err_t nvs_set_u64(nvs_handle_t h, const char* key, uint64_t v)
{
	return put(h, key, U64, v, NULL, 0);
}

esp_err_t nvs_set_str(nvs_handle_t h, const char* key, const char* v)
{
	return put(h, key, STR, 0, v, strlen(v) + 1);
}

esp_err_t nvs_set_blob(nvs_handle_t h, const char* key, const void* v, size_t n)
{
	return put(h, key, BLOB, 0, v, n);
}

esp_err_t nvs_get_u8(nvs_handle_t h, const char* key, uint8_t* out)
{
	item_t* it;
	esp_err_t err = lookup(h, key, U8, &it);
	if (!err)
		*out = (uint8_t)it->number;
	return err;
}

esp_err_t nvs_get_i32(nvs_handle_t h, const char* key, int32_t* out)
{
	item_t* it;
	esp_err_t err = lookup(h, key, I32, &it);
	if (!err)
		*out = (int32_t)(int64_t)it->number;
	return err;
}

esp_err_t nvs_get_u64(nvs_handle_t h, const char* key, uint64_t* out)
{
	item_t* it;
	esp_err_t err = lookup(h, key, U64, &it);
	if (!err)
		*out = it->number;
	return err;
}

// With out NULL, the length alone (ESP-IDF's way to size a buffer).
static esp_err_t get_bytes(nvs_handle_t h, const char* key, enum type type, void* out, size_t* length)
{
	item_t* it;
	esp_err_t err = lookup(h, key, type, &it);
	if (err)
		return err;
	if (out && *length < it->size)
		return ESP_ERR_NVS_INVALID_LENGTH;
	if (out && it->size)
		memcpy(out, it->data, it->size);
	*length = it->size;
	return ESP_OK;
}

esp_err_t nvs_get_str(nvs_handle_t h, const char* key, char* out, size_t* length)
{
	return get_bytes(h, key, STR, out, length);
}

esp_err_t nvs_get_blob(nvs_handle_t h, const char* key, void* out, size_t* length)
{
	return get_bytes(h, key, BLOB, out, length);
}

static const char* const type_names[] = { "u8", "i32", "u64", "str", "blob" };

const char* nvs_ram_type(const char* ns, const char* key)
{
	for (size_t i = 0; i < item_count; i++)
		if (!strcmp(items[i].ns, ns) && !strcmp(items[i].key, key))
			return type_names[items[i].type];
	return "none";
}

bool nvs_ram_item(size_t i, const char** ns, const char** key, const char** type, uint64_t* number,
	const uint8_t** data, size_t* size)
{
	if (i >= item_count)
		return false;
	*ns = items[i].ns;
	*key = items[i].key;
	*type = type_names[items[i].type];
	*number = items[i].number;
	*data = items[i].data;
	*size = items[i].size;
	return true;
}

size_t nvs_ram_namespaces(void)
{
	return space_count;
}

int nvs_ram_open_handles(void)
{
	return opens;
}
