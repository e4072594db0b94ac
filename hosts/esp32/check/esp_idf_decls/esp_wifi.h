// SPDX-License-Identifier: MIT
// Check build only: ESP-IDF 5.x's esp_wifi.h with the parts of its type
// headers (esp_wifi_types.h, esp_wifi_types_generic.h) that the port uses.
// Structures keep ESP-IDF's leading fields, in order, up to the last one the
// port names; WIFI_INIT_CONFIG_DEFAULT stands in for ESP-IDF's macro of the
// same name, which fills every field from sdkconfig.
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "esp_err.h"
#include "esp_event.h"

ESP_EVENT_DECLARE_BASE(WIFI_EVENT);

typedef enum {
	WIFI_EVENT_WIFI_READY = 0,
	WIFI_EVENT_SCAN_DONE,
	WIFI_EVENT_STA_START,
	WIFI_EVENT_STA_STOP,
	WIFI_EVENT_STA_CONNECTED,
	WIFI_EVENT_STA_DISCONNECTED,
} wifi_event_t;

typedef struct {
	uint8_t ssid[32];
	uint8_t ssid_len;
	uint8_t bssid[6];
	uint8_t reason;
	int8_t rssi;
} wifi_event_sta_disconnected_t;

typedef enum {
	WIFI_MODE_NULL = 0,
	WIFI_MODE_STA,
	WIFI_MODE_AP,
	WIFI_MODE_APSTA,
} wifi_mode_t;

typedef enum {
	WIFI_IF_STA,
	WIFI_IF_AP,
} wifi_interface_t;

typedef enum {
	WIFI_STORAGE_FLASH,
	WIFI_STORAGE_RAM,
} wifi_storage_t;

typedef enum {
	WIFI_AUTH_OPEN = 0,
	WIFI_AUTH_WEP,
	WIFI_AUTH_WPA_PSK,
	WIFI_AUTH_WPA2_PSK,
} wifi_auth_mode_t;

typedef enum {
	WIFI_FAST_SCAN = 0,
	WIFI_ALL_CHANNEL_SCAN,
} wifi_scan_method_t;

typedef enum {
	WIFI_CONNECT_AP_BY_SIGNAL = 0,
	WIFI_CONNECT_AP_BY_SECURITY,
} wifi_sort_method_t;

typedef struct {
	int8_t rssi;
	wifi_auth_mode_t authmode;
} wifi_scan_threshold_t;

typedef struct {
	uint8_t ssid[32];
	uint8_t password[64];
	wifi_scan_method_t scan_method;
	bool bssid_set;
	uint8_t bssid[6];
	uint8_t channel;
	uint16_t listen_interval;
	wifi_sort_method_t sort_method;
	wifi_scan_threshold_t threshold;
} wifi_sta_config_t;

typedef struct {
	uint8_t ssid[32];
	uint8_t password[64];
} wifi_ap_config_t;

typedef union {
	wifi_ap_config_t ap;
	wifi_sta_config_t sta;
} wifi_config_t;

typedef struct {
	int magic;
} wifi_init_config_t;

#define WIFI_INIT_CONFIG_MAGIC 0x1F2F3F4F
#define WIFI_INIT_CONFIG_DEFAULT() { .magic = WIFI_INIT_CONFIG_MAGIC }

esp_err_t esp_wifi_init(const wifi_init_config_t* config);
esp_err_t esp_wifi_set_storage(wifi_storage_t storage);
esp_err_t esp_wifi_set_mode(wifi_mode_t mode);
esp_err_t esp_wifi_set_config(wifi_interface_t interface, wifi_config_t* conf);
esp_err_t esp_wifi_start(void);
esp_err_t esp_wifi_connect(void);
