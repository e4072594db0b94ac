// SPDX-License-Identifier: MIT
// The config store's NVS backend (modules/config/esp32/xm_config_nvs.c) on the
// build machine, against the virtual board's in-RAM NVS (hosts/qemu/nvs_ram.c),
// which follows ESP-IDF's documented behaviour. A get of another type fails as
// not found or, with FAKE_NVS_MISMATCH=1, as a type mismatch (ESP-IDF versions
// differ). Prints one line per check; config-nvs.test.ts compares them.
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nvs.h"
#include "nvs_ram.h"
#include "xm_config.h"

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

int main(void)
{
	nvs_ram_type_mismatch = getenv("FAKE_NVS_MISMATCH") != NULL;
	char error[XM_CONFIG_ERROR_SIZE];
	show("unknown namespace", "app", "k");
	printf("namespaces after a get: %zu\n", nvs_ram_namespaces());
	printf("delete in unknown namespace: %d\n", xm_config_backend_delete("app", "k", error));
	printf("namespaces after a delete: %zu\n", nvs_ram_namespaces());

	const double numbers[] = { 0, -0.0, 1, -2147483648.0, 2147483647.0, 2147483648.0, 1.5, NAN, INFINITY };
	char key[16];
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		snprintf(key, sizeof(key), "n%zu", i);
		set("num", key, number(numbers[i]));
		printf("n%zu stored as %s; ", i, nvs_ram_type("num", key));
		show(key, "num", key);
	}
	set("app", "t", (xm_config_value_t){ XM_CONFIG_BOOLEAN, 0, true, NULL, 0 });
	printf("t stored as %s; ", nvs_ram_type("app", "t"));
	show("t", "app", "t");
	set("app", "s", (xm_config_value_t){ XM_CONFIG_STRING, 0, false, "hé", 3 });
	printf("s stored as %s; ", nvs_ram_type("app", "s"));
	show("s", "app", "s");
	set("app", "e", (xm_config_value_t){ XM_CONFIG_STRING, 0, false, "", 0 });
	show("e", "app", "e");
	set("app", "b", (xm_config_value_t){ XM_CONFIG_BYTES, 0, false, "\0\1\377", 3 });
	printf("b stored as %s; ", nvs_ram_type("app", "b"));
	show("b", "app", "b");
	set("app", "z", (xm_config_value_t){ XM_CONFIG_BYTES, 0, false, "", 0 });
	show("z", "app", "z");
	set("app", "s", number(7));
	printf("s retyped as %s; ", nvs_ram_type("app", "s"));
	show("s", "app", "s");
	show("absent key", "app", "nope");
	printf("delete s: %d\n", xm_config_backend_delete("app", "s", error));
	show("deleted s", "app", "s");
	printf("delete s again: %d\n", xm_config_backend_delete("app", "s", error));
	printf("handles left open: %d\n", nvs_ram_open_handles());
	return 0;
}
