// SPDX-License-Identifier: MIT
// The network of net.h on a board: a Wi-Fi station from configuration. Credentials come from the config store's
// "wifi" namespace (NVS strings "ssid" and "password", as Config.set or an NVS
// partition image writes them) when it has an SSID, else from menuconfig
// (CONFIG_XSMG_WIFI_SSID / CONFIG_XSMG_WIFI_PASSWORD, Kconfig.projbuild): a
// stored pair is never mixed with a built-in one. ESP-IDF's own copy of the
// configuration is kept in RAM only, so the config store is the one source.
#include "net.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "esp_event.h"
#include "esp_netif.h"
#include "esp_timer.h"
#include "esp_wifi.h"
#include "nvs.h"
#include "port.h"
#include "sdkconfig.h"

#define NAMESPACE "wifi"
#define FIRST_RETRY_MS 1000
#define LAST_RETRY_MS 60000  // a router that reboots is back within a minute; no need to hammer it

static void (*on_ready)(void);
static bool ready_called;
static uint32_t retry_ms = FIRST_RETRY_MS;
static esp_timer_handle_t retry_timer;

static void say(const char* format, ...) __attribute__((format(printf, 1, 2)));
static void say(const char* format, ...)
{
	char line[160];
	va_list args;
	va_start(args, format);
	int n = vsnprintf(line, sizeof(line) - 1, format, args);
	va_end(args);
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 2;
	line[len++] = '\n';
	port_console_write(1, line, len);
}

// Runs on the esp_timer task (and once on the event task, at start), so that
// waiting never stalls other events. An attempt the driver refuses outright
// raises no disconnect event, so it is retried here, at the longest interval
// (retry_ms belongs to the event task).
static void retry(void* arg)
{
	(void)arg;
	if (esp_wifi_connect() != ESP_OK)
		esp_timer_start_once(retry_timer, (uint64_t)LAST_RETRY_MS * 1000);
}

// ESP-IDF's default event task calls this for every Wi-Fi and IP event.
static void on_event(void* arg, esp_event_base_t base, int32_t id, void* data)
{
	(void)arg;
	if (base == WIFI_EVENT && id == WIFI_EVENT_STA_START) {
		retry(NULL);
	} else if (base == WIFI_EVENT && id == WIFI_EVENT_STA_DISCONNECTED) {
		const wifi_event_sta_disconnected_t* event = data;
		say("xsmg: Wi-Fi: not connected (reason %u); retrying in %lu s", (unsigned)event->reason,
			(unsigned long)(retry_ms / 1000));
		esp_timer_start_once(retry_timer, (uint64_t)retry_ms * 1000);
		retry_ms = retry_ms * 2 > LAST_RETRY_MS ? LAST_RETRY_MS : retry_ms * 2;
	} else if (base == IP_EVENT && id == IP_EVENT_STA_GOT_IP) {
		const ip_event_got_ip_t* event = data;
		say("xsmg: Wi-Fi: address " IPSTR, IP2STR(&event->ip_info.ip));
		retry_ms = FIRST_RETRY_MS;
		if (!ready_called) {
			ready_called = true;
			on_ready();
		}
	}
}

// Copies a stored string of the wifi namespace into out (size bytes, not
// necessarily NUL-terminated when it fills them, as wifi_sta_config_t allows).
static bool stored(nvs_handle_t h, const char* key, uint8_t* out, size_t size)
{
	char text[66];
	size_t len = sizeof(text);
	esp_err_t err = nvs_get_str(h, key, text, &len);
	if (err == ESP_ERR_NVS_NOT_FOUND)
		return false;
	if (err != ESP_OK || len - 1 > size) {
		say("xsmg: Wi-Fi: stored %s ignored (%s)", key, err != ESP_OK ? esp_err_to_name(err) : "too long");
		return false;
	}
	memcpy(out, text, len - 1);
	return true;
}

static void credentials(wifi_config_t* config)
{
	nvs_handle_t h;
	bool found = false;
	if (nvs_open(NAMESPACE, NVS_READONLY, &h) == ESP_OK) {
		found = stored(h, "ssid", config->sta.ssid, sizeof(config->sta.ssid));
		if (found)
			stored(h, "password", config->sta.password, sizeof(config->sta.password));
		nvs_close(h);
	}
	if (found)
		return;
	static const char ssid[] = CONFIG_XSMG_WIFI_SSID, password[] = CONFIG_XSMG_WIFI_PASSWORD;
	_Static_assert(sizeof(ssid) - 1 <= sizeof(config->sta.ssid), "CONFIG_XSMG_WIFI_SSID is longer than 32 bytes");
	_Static_assert(sizeof(password) - 1 <= sizeof(config->sta.password),
		"CONFIG_XSMG_WIFI_PASSWORD is longer than 64 bytes");
	memcpy(config->sta.ssid, ssid, sizeof(ssid) - 1);
	memcpy(config->sta.password, password, sizeof(password) - 1);
}

static bool check(esp_err_t err, const char* what)
{
	if (err != ESP_OK)
		say("xsmg: Wi-Fi: %s failed: %s; the app starts without network", what, esp_err_to_name(err));
	return err == ESP_OK;
}

bool xm_net_start(void (*ready)(void))
{
	wifi_config_t config;
	memset(&config, 0, sizeof(config));
	credentials(&config);
	if (!config.sta.ssid[0]) {
		say("xsmg: Wi-Fi: no credentials (see README, ESP32 provisioning); the app starts without network");
		return false;
	}
	// A password means WPA2 at least: never fall back to an open or WEP network of the same name.
	config.sta.threshold.authmode = config.sta.password[0] ? WIFI_AUTH_WPA2_PSK : WIFI_AUTH_OPEN;
	on_ready = ready;
	wifi_init_config_t init = WIFI_INIT_CONFIG_DEFAULT();
	const esp_timer_create_args_t timer = { .callback = retry, .name = "xsmg-wifi" };
	static esp_event_handler_instance_t wifi_events, ip_events;
	if (!check(esp_netif_init(), "esp_netif_init") || !check(esp_event_loop_create_default(), "the event loop") ||
			!check(esp_timer_create(&timer, &retry_timer), "the retry timer"))
		return false;
	if (!esp_netif_create_default_wifi_sta()) {
		say("xsmg: Wi-Fi: no station interface (out of memory); the app starts without network");
		return false;
	}
	return check(esp_wifi_init(&init), "esp_wifi_init") &&
		check(esp_wifi_set_storage(WIFI_STORAGE_RAM), "esp_wifi_set_storage") &&
		check(esp_event_handler_instance_register(WIFI_EVENT, ESP_EVENT_ANY_ID, on_event, NULL, &wifi_events),
			"registering for Wi-Fi events") &&
		check(esp_event_handler_instance_register(IP_EVENT, IP_EVENT_STA_GOT_IP, on_event, NULL, &ip_events),
			"registering for IP events") &&
		check(esp_wifi_set_mode(WIFI_MODE_STA), "esp_wifi_set_mode") &&
		check(esp_wifi_set_config(WIFI_IF_STA, &config), "esp_wifi_set_config") &&
		check(esp_wifi_start(), "esp_wifi_start");
}
