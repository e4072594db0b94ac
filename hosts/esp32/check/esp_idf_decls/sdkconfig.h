// SPDX-License-Identifier: MIT
// Check build only: stands in for the sdkconfig.h ESP-IDF generates from
// menuconfig, with the defaults of hosts/esp32/Kconfig.projbuild.
#pragma once

#define CONFIG_XSMG_WIFI_SSID ""
#define CONFIG_XSMG_WIFI_PASSWORD ""
