// SPDX-License-Identifier: MIT
// What mongoose asks of its platform in mongoose_config.h's custom arch: a
// millisecond clock and random bytes.
#include "mongoose.h"
#include "port.h"

#include "esp_random.h"

uint64_t mg_millis(void)
{
	return port_millis();
}

// The hardware RNG is truly random only while Wi-Fi or Bluetooth runs (or after
// bootloader_random_enable()): TLS keys drawn before that are weak. A networked
// firmware has Wi-Fi up before it opens a TLS connection.
bool mg_random(void* buf, size_t len)
{
	esp_fill_random(buf, len);
	return true;
}
