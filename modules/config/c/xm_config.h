// SPDX-License-Identifier: MIT
// The config store's backend interface. xm_config.c checks every name and value
// before calling a backend, so a backend sees only names of 1 to
// XM_CONFIG_NAME_MAX ASCII characters from '!' to '~' and values within the
// size limits below. Each host supplies one backend (lin/: a file, esp32/: NVS);
// all its functions run on the XS task.
#ifndef XM_CONFIG_H
#define XM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define XM_CONFIG_NAME_MAX 15      // NVS's limit for keys and namespaces
#define XM_CONFIG_STRING_MAX 3999  // NVS's 4,000 bytes include the terminating NUL
#define XM_CONFIG_BYTES_MAX 4000   // far below NVS's blob limit: a config store, not a file system
#define XM_CONFIG_ERROR_SIZE 400

typedef enum { XM_CONFIG_STRING, XM_CONFIG_NUMBER, XM_CONFIG_BOOLEAN, XM_CONFIG_BYTES } xm_config_type_t;

// STRING data is UTF-8 with a NUL after its size bytes; BYTES data is size bytes.
// After a successful get, data was allocated with malloc and the caller frees it.
typedef struct {
	xm_config_type_t type;
	double number;
	bool boolean;
	const void* data;
	size_t size;
} xm_config_value_t;

typedef enum { XM_CONFIG_OK, XM_CONFIG_ABSENT, XM_CONFIG_FAILED } xm_config_status_t;

// On XM_CONFIG_FAILED each writes into error (XM_CONFIG_ERROR_SIZE bytes) a
// sentence naming the store and what went wrong; the store is then unchanged.
xm_config_status_t xm_config_backend_get(const char* ns, const char* key, xm_config_value_t* value, char* error);
xm_config_status_t xm_config_backend_set(const char* ns, const char* key, const xm_config_value_t* value, char* error);
// XM_CONFIG_ABSENT when the key was not set.
xm_config_status_t xm_config_backend_delete(const char* ns, const char* key, char* error);

#endif
