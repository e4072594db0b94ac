// SPDX-License-Identifier: MIT
// The ESP32's config store: ESP-IDF's NVS, one NVS namespace per config
// namespace. Types map onto NVS types so that a value reads back as it was set
// and tools (nvs_partition_gen.py, other firmware) see ordinary NVS entries:
// strings as NVS strings, booleans as u8, integers that fit 32 bits as i32,
// other numbers as the IEEE-754 bits of the double in a u64, bytes as blobs.
// A key that holds another NVS type (i8, u16, i64...) reads as not set.
// NVS itself replaces a key's old value and type on a set, and survives a
// power cut mid-write (the new value is then lost, the old one kept).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nvs.h"
#include "../c/xm_config.h"

static xm_config_status_t failed(char* error, const char* what, const char* ns, const char* key, esp_err_t err)
{
	snprintf(error, XM_CONFIG_ERROR_SIZE, "NVS %s of \"%s/%s\" failed: %s", what, ns, key, esp_err_to_name(err));
	return XM_CONFIG_FAILED;
}

// Whether a get failed only because the key holds another type (NVS reports
// that as not found or, in some versions, as a type mismatch).
static bool other_type(esp_err_t err)
{
	return err == ESP_ERR_NVS_NOT_FOUND || err == ESP_ERR_NVS_TYPE_MISMATCH;
}

// A string or blob, read into a new allocation with one NUL after it.
static esp_err_t get_data(nvs_handle_t h, const char* key, bool string, xm_config_value_t* value)
{
	size_t size = 0;
	esp_err_t err = string ? nvs_get_str(h, key, NULL, &size) : nvs_get_blob(h, key, NULL, &size);
	if (err != ESP_OK)
		return err;
	char* data = malloc(size + 1);
	if (!data)
		return ESP_ERR_NO_MEM;
	err = string ? nvs_get_str(h, key, data, &size) : nvs_get_blob(h, key, data, &size);
	if (err != ESP_OK) {
		free(data);
		return err;
	}
	data[size] = 0;
	value->type = string ? XM_CONFIG_STRING : XM_CONFIG_BYTES;
	value->data = data;
	value->size = string && size ? size - 1 : size;  // nvs_get_str counts the NUL
	return ESP_OK;
}

// Tries each type the store writes, most likely first. Not nvs_find_key, which
// would tell the type in one lookup: it arrived in ESP-IDF in late 2023, after
// 5.0 and 5.1 were released.
static esp_err_t get_any(nvs_handle_t h, const char* key, xm_config_value_t* value)
{
	esp_err_t err = get_data(h, key, true, value);
	if (other_type(err))
		err = get_data(h, key, false, value);
	if (other_type(err)) {
		int32_t i32;
		err = nvs_get_i32(h, key, &i32);
		value->type = XM_CONFIG_NUMBER;
		value->number = i32;
	}
	if (other_type(err)) {
		uint64_t u64;
		err = nvs_get_u64(h, key, &u64);
		memcpy(&value->number, &u64, sizeof(u64));
	}
	if (other_type(err)) {
		uint8_t u8;
		err = nvs_get_u8(h, key, &u8);
		value->type = XM_CONFIG_BOOLEAN;
		value->boolean = u8 != 0;
	}
	return err;
}

xm_config_status_t xm_config_backend_get(const char* ns, const char* key, xm_config_value_t* value, char* error)
{
	nvs_handle_t h;
	esp_err_t err = nvs_open(ns, NVS_READONLY, &h);
	if (err == ESP_ERR_NVS_NOT_FOUND)
		return XM_CONFIG_ABSENT;  // a namespace exists once something was set in it
	if (err != ESP_OK)
		return failed(error, "open", ns, key, err);
	memset(value, 0, sizeof(*value));
	err = get_any(h, key, value);
	nvs_close(h);
	if (other_type(err))
		return XM_CONFIG_ABSENT;
	return err == ESP_OK ? XM_CONFIG_OK : failed(error, "read", ns, key, err);
}

xm_config_status_t xm_config_backend_set(const char* ns, const char* key, const xm_config_value_t* value, char* error)
{
	nvs_handle_t h;
	esp_err_t err = nvs_open(ns, NVS_READWRITE, &h);
	if (err != ESP_OK)
		return failed(error, "open", ns, key, err);
	double n = value->number;
	uint64_t bits;
	switch (value->type) {
	case XM_CONFIG_BOOLEAN:
		err = nvs_set_u8(h, key, value->boolean ? 1 : 0);
		break;
	case XM_CONFIG_NUMBER:
		// -0 is not an integer here: i32 would bring it back as +0.
		if (n >= -2147483648.0 && n <= 2147483647.0 && n == (double)(int32_t)n && !(n == 0 && 1 / n < 0)) {
			err = nvs_set_i32(h, key, (int32_t)n);
		} else {
			memcpy(&bits, &n, sizeof(bits));
			err = nvs_set_u64(h, key, bits);
		}
		break;
	case XM_CONFIG_STRING:
		err = nvs_set_str(h, key, value->data);
		break;
	case XM_CONFIG_BYTES:
		err = nvs_set_blob(h, key, value->data, value->size);
		break;
	}
	if (err == ESP_OK)
		err = nvs_commit(h);
	nvs_close(h);
	return err == ESP_OK ? XM_CONFIG_OK : failed(error, "write", ns, key, err);
}

xm_config_status_t xm_config_backend_delete(const char* ns, const char* key, char* error)
{
	nvs_handle_t h;
	// Read-only first: opening a namespace for writing creates it, and NVS
	// holds at most 254 of them.
	esp_err_t err = nvs_open(ns, NVS_READONLY, &h);
	if (err == ESP_ERR_NVS_NOT_FOUND)
		return XM_CONFIG_ABSENT;
	if (err == ESP_OK) {
		nvs_close(h);
		err = nvs_open(ns, NVS_READWRITE, &h);
	}
	if (err != ESP_OK)
		return failed(error, "open", ns, key, err);
	err = nvs_erase_key(h, key);
	if (err == ESP_OK)
		err = nvs_commit(h);
	nvs_close(h);
	if (err == ESP_ERR_NVS_NOT_FOUND)
		return XM_CONFIG_ABSENT;
	return err == ESP_OK ? XM_CONFIG_OK : failed(error, "erase", ns, key, err);
}
