// SPDX-License-Identifier: MIT
// ESP-IDF's entry point. app_main runs on ESP-IDF's main task: it readies NVS
// (Wi-Fi keeps its calibration there, the config store its values), brings up
// the network (net.h: Wi-Fi on a board, virtio-net on the virtual board) and
// starts the XS task once an address is up (at once when there is no network
// to wait for). The XS task creates the machine itself, since the
// engine takes its C stack limit from the task that creates it.
#include "xm.h"
#include "xm_host_config.h"
#include "net.h"

#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "nvs_flash.h"

static void xs_task(void* arg)
{
	(void)arg;
	xm_options_t options = { false };
	int code = xm_run(&options);
	if (code != XM_EXIT_OK)
		port_fatal(code);
	// Nothing is left to run: the firmware idles, and the system (Wi-Fi) stays up.
	static const char done[] = "xsmg: the firmware has finished\n";
	port_console_write(1, done, sizeof(done) - 1);
	vTaskDelete(NULL);
}

// Called once: from app_main, or from the network's task on the first address.
static void start_app(void)
{
	if (xTaskCreatePinnedToCore(xs_task, "xs", XM_HOST_XS_STACK, NULL, XM_HOST_XS_PRIORITY, NULL,
			XM_HOST_XS_CORE) != pdPASS) {
		static const char why[] = "xsmg: fatal: cannot create the XS task (not enough memory)\n";
		port_console_write(2, why, sizeof(why) - 1);
		port_fatal(XM_EXIT_NO_MEMORY);
	}
}

void app_main(void)
{
	esp_err_t err = nvs_flash_init();
	if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
		// A full partition, or one written by a newer ESP-IDF: start it afresh.
		nvs_flash_erase();
		err = nvs_flash_init();
	}
	if (err != ESP_OK) {
		static const char why[] = "xsmg: NVS unavailable; no Wi-Fi, no config store\n";
		port_console_write(2, why, sizeof(why) - 1);
	}
	if (err != ESP_OK || !xm_net_start(start_app))
		start_app();
}
