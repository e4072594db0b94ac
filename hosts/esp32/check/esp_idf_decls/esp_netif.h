// SPDX-License-Identifier: MIT
// Check build only: ESP-IDF 5.x's esp_netif.h with the parts of
// esp_netif_types.h and esp_netif_ip_addr.h it includes that the port uses.
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "esp_err.h"
#include "esp_event.h"

typedef struct esp_netif_obj esp_netif_t;

typedef struct {
	uint32_t addr;  // network byte order
} esp_ip4_addr_t;

typedef struct {
	esp_ip4_addr_t ip;
	esp_ip4_addr_t netmask;
	esp_ip4_addr_t gw;
} esp_netif_ip_info_t;

#define esp_ip4_addr_get_byte(ipaddr, idx) (((const uint8_t*)(&(ipaddr)->addr))[idx])
#define IPSTR "%d.%d.%d.%d"
#define IP2STR(ipaddr) (uint16_t)esp_ip4_addr_get_byte(ipaddr, 0), (uint16_t)esp_ip4_addr_get_byte(ipaddr, 1), \
	(uint16_t)esp_ip4_addr_get_byte(ipaddr, 2), (uint16_t)esp_ip4_addr_get_byte(ipaddr, 3)

ESP_EVENT_DECLARE_BASE(IP_EVENT);

typedef enum {
	IP_EVENT_STA_GOT_IP,
	IP_EVENT_STA_LOST_IP,
} ip_event_t;

typedef struct {
	esp_netif_t* esp_netif;
	esp_netif_ip_info_t ip_info;
	bool ip_changed;
} ip_event_got_ip_t;

esp_err_t esp_netif_init(void);
esp_netif_t* esp_netif_create_default_wifi_sta(void);
