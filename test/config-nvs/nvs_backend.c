// SPDX-License-Identifier: MIT
// The config store's NVS backend (modules/config/esp32/xm_config_nvs.c) on the
// build machine, against an in-memory NVS that follows ESP-IDF's documented
// behaviour: a read-only open of an unknown namespace fails, a set replaces a
// key's value and type, a get of another type fails (as not found or, with
// FAKE_NVS_MISMATCH=1, as a type mismatch), strings are read with their NUL.
// Prints one line per check; config-nvs.test.ts compares them.
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nvs.h"
#include "xm_config.h"

enum kind { U8, I32, U64, STR, BLOB };

typedef struct {
	char ns[16], key[16];
	enum kind kind;
	uint64_t number;
	char* data;
	size_t size;
} item_t;

static item_t items[64];
static size_t item_count;
static char spaces[8][16];
static size_t space_count;
static int opens, commits;

const char* esp_err_to_name(esp_err_t code)
{
	return code == ESP_ERR_NVS_NOT_FOUND ? "ESP_ERR_NVS_NOT_FOUND" : "ESP_ERR_OTHER";
}

esp_err_t nvs_open(const char* name, nvs_open_mode_t mode, nvs_handle_t* out)
{
	for (size_t i = 0; i < space_count; i++)
		if (!strcmp(spaces[i], name)) {
			*out = (nvs_handle_t)(i * 2 + mode);
			opens++;
			return ESP_OK;
		}
	if (mode == NVS_READONLY)
		return ESP_ERR_NVS_NOT_FOUND;
	strcpy(spaces[space_count], name);
	*out = (nvs_handle_t)(space_count++ * 2 + mode);
	opens++;
	return ESP_OK;
}

void nvs_close(nvs_handle_t h)
{
	(void)h;
	opens--;
}

esp_err_t nvs_commit(nvs_handle_t h)
{
	commits += h & 1;
	return (h & 1) ? ESP_OK : ESP_ERR_NVS_NOT_FOUND + 100;
}

static item_t* find(nvs_handle_t h, const char* key)
{
	for (size_t i = 0; i < item_count; i++)
		if (!strcmp(items[i].ns, spaces[h / 2]) && !strcmp(items[i].key, key))
			return &items[i];
	return NULL;
}

static esp_err_t lookup(nvs_handle_t h, const char* key, enum kind kind, item_t** out)
{
	*out = find(h, key);
	if (!*out)
		return ESP_ERR_NVS_NOT_FOUND;
	if ((*out)->kind != kind)
		return getenv("FAKE_NVS_MISMATCH") ? ESP_ERR_NVS_TYPE_MISMATCH : ESP_ERR_NVS_NOT_FOUND;
	return ESP_OK;
}

static esp_err_t put(nvs_handle_t h, const char* key, enum kind kind, uint64_t number, const void* data, size_t size)
{
	if (!(h & 1))
		return ESP_ERR_NVS_NOT_FOUND + 100;
	item_t* it = find(h, key);
	if (!it) {
		it = &items[item_count++];
		strcpy(it->ns, spaces[h / 2]);
		strcpy(it->key, key);
	}
	free(it->data);
	it->kind = kind;
	it->number = number;
	it->data = data ? malloc(size ? size : 1) : NULL;
	if (data && size)
		memcpy(it->data, data, size);
	it->size = size;
	return ESP_OK;
}

esp_err_t nvs_erase_key(nvs_handle_t h, const char* key)
{
	item_t* it = find(h, key);
	if (!it)
		return ESP_ERR_NVS_NOT_FOUND;
	free(it->data);
	*it = items[--item_count];
	return ESP_OK;
}

esp_err_t nvs_set_u8(nvs_handle_t h, const char* key, uint8_t v) { return put(h, key, U8, v, NULL, 0); }
esp_err_t nvs_set_i32(nvs_handle_t h, const char* key, int32_t v) { return put(h, key, I32, (uint64_t)(int64_t)v, NULL, 0); }
esp_err_t nvs_set_u64(nvs_handle_t h, const char* key, uint64_t v) { return put(h, key, U64, v, NULL, 0); }
esp_err_t nvs_set_str(nvs_handle_t h, const char* key, const char* v) { return put(h, key, STR, 0, v, strlen(v) + 1); }
esp_err_t nvs_set_blob(nvs_handle_t h, const char* key, const void* v, size_t n) { return put(h, key, BLOB, 0, v, n); }

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

static esp_err_t get_bytes(nvs_handle_t h, const char* key, enum kind kind, void* out, size_t* length)
{
	item_t* it;
	esp_err_t err = lookup(h, key, kind, &it);
	if (err)
		return err;
	if (out && *length < it->size)
		return ESP_ERR_NVS_NOT_FOUND + 200;
	if (out && it->size)
		memcpy(out, it->data, it->size);
	*length = it->size;
	return ESP_OK;
}

esp_err_t nvs_get_str(nvs_handle_t h, const char* key, char* out, size_t* length) { return get_bytes(h, key, STR, out, length); }
esp_err_t nvs_get_blob(nvs_handle_t h, const char* key, void* out, size_t* length) { return get_bytes(h, key, BLOB, out, length); }

static void show(const char* label, const char* ns, const char* key)
{
	xm_config_value_t v;
	char error[XM_CONFIG_ERROR_SIZE];
	xm_config_status_t status = xm_config_backend_get(ns, key, &v, error);
	printf("%s: ", label);
	if (status == XM_CONFIG_ABSENT)
		printf("absent");
	else if (status == XM_CONFIG_FAILED)
		printf("failed %s", error);
	else if (v.type == XM_CONFIG_NUMBER)
		printf("number %.17g", v.number);
	else if (v.type == XM_CONFIG_BOOLEAN)
		printf("boolean %s", v.boolean ? "true" : "false");
	else {
		printf("%s %zu [", v.type == XM_CONFIG_STRING ? "string" : "bytes", v.size);
		for (size_t i = 0; i < v.size; i++)
			printf("%s%u", i ? "," : "", ((const unsigned char*)v.data)[i]);
		printf("]%s", v.type == XM_CONFIG_STRING && ((const char*)v.data)[v.size] == 0 ? " nul" : "");
		free((void*)v.data);
	}
	printf("\n");
}

static void set(const char* ns, const char* key, xm_config_value_t v)
{
	char error[XM_CONFIG_ERROR_SIZE];
	if (xm_config_backend_set(ns, key, &v, error) != XM_CONFIG_OK)
		printf("set %s/%s failed: %s\n", ns, key, error);
}

static xm_config_value_t number(double n)
{
	return (xm_config_value_t){ XM_CONFIG_NUMBER, n, false, NULL, 0 };
}

static const char* nvs_kind(const char* ns, const char* key)
{
	static const char* names[] = { "u8", "i32", "u64", "str", "blob" };
	for (size_t i = 0; i < item_count; i++)
		if (!strcmp(items[i].ns, ns) && !strcmp(items[i].key, key))
			return names[items[i].kind];
	return "none";
}

int main(void)
{
	char error[XM_CONFIG_ERROR_SIZE];
	show("unknown namespace", "app", "k");
	printf("namespaces after a get: %zu\n", space_count);
	printf("delete in unknown namespace: %d\n", xm_config_backend_delete("app", "k", error));
	printf("namespaces after a delete: %zu\n", space_count);

	const double numbers[] = { 0, -0.0, 1, -2147483648.0, 2147483647.0, 2147483648.0, 1.5, NAN, INFINITY };
	char key[16];
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		snprintf(key, sizeof(key), "n%zu", i);
		set("num", key, number(numbers[i]));
		printf("n%zu stored as %s; ", i, nvs_kind("num", key));
		show(key, "num", key);
	}
	set("app", "t", (xm_config_value_t){ XM_CONFIG_BOOLEAN, 0, true, NULL, 0 });
	printf("t stored as %s; ", nvs_kind("app", "t"));
	show("t", "app", "t");
	set("app", "s", (xm_config_value_t){ XM_CONFIG_STRING, 0, false, "hé", 3 });
	printf("s stored as %s; ", nvs_kind("app", "s"));
	show("s", "app", "s");
	set("app", "e", (xm_config_value_t){ XM_CONFIG_STRING, 0, false, "", 0 });
	show("e", "app", "e");
	set("app", "b", (xm_config_value_t){ XM_CONFIG_BYTES, 0, false, "\0\1\377", 3 });
	printf("b stored as %s; ", nvs_kind("app", "b"));
	show("b", "app", "b");
	set("app", "z", (xm_config_value_t){ XM_CONFIG_BYTES, 0, false, "", 0 });
	show("z", "app", "z");
	set("app", "s", number(7));
	printf("s retyped as %s; ", nvs_kind("app", "s"));
	show("s", "app", "s");
	show("absent key", "app", "nope");
	printf("delete s: %d\n", xm_config_backend_delete("app", "s", error));
	show("deleted s", "app", "s");
	printf("delete s again: %d\n", xm_config_backend_delete("app", "s", error));
	printf("handles left open: %d\n", opens);
	for (size_t i = 0; i < item_count; i++)
		free(items[i].data);
	return 0;
}
