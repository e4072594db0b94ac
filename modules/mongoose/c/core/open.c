// SPDX-License-Identifier: MIT
// Opening a connection by kind, for both front ends: the mongoose call, the
// workarounds the new connection needs, and one text for a failure.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "xm_core.h"

struct mg_connection* xm_core_open(struct mg_mgr* mgr, bool listen, xm_core_open_kind_t kind, const char* url,
	const struct mg_mqtt_opts* mqtt, mg_event_handler_t fn, void* fn_data, char* why, size_t size)
{
	static const char* const names[2][XM_CORE_OPEN_KINDS] = {
		{ "connect", "connect", "connect", "mqttConnect", "sntpConnect" },
		{ "listen", "listen", NULL, "mqttListen", NULL },
	};
	struct mg_connection* c = NULL;
	errno = 0;  // mongoose leaves it alone for a bad URL: then there is no system reason
	if (!listen && kind == XM_CORE_OPEN_RAW)
		c = mg_connect(mgr, url, fn, fn_data);
	else if (!listen && kind == XM_CORE_OPEN_HTTP)
		c = mg_http_connect(mgr, url, fn, fn_data);
	else if (!listen && kind == XM_CORE_OPEN_WS)
		c = mg_ws_connect(mgr, url, fn, fn_data, NULL);
	else if (!listen && kind == XM_CORE_OPEN_MQTT)
		c = mg_mqtt_connect(mgr, url, mqtt, fn, fn_data);  // sends CONNECT: mqtt is read now
	else if (!listen && kind == XM_CORE_OPEN_SNTP)
		c = mg_sntp_connect(mgr, url, fn, fn_data);
	else if (listen && kind == XM_CORE_OPEN_RAW)
		c = mg_listen(mgr, url, fn, fn_data);
	else if (listen && kind == XM_CORE_OPEN_HTTP)
		c = mg_http_listen(mgr, url, fn, fn_data);
	else if (listen && kind == XM_CORE_OPEN_MQTT)
		c = mg_mqtt_listen(mgr, url, fn, fn_data);
	else {
		snprintf(why, size, "cannot open that kind of connection (%d)", (int)kind);
		return NULL;
	}
	if (!c) {
		int err = errno;
		snprintf(why, size, "%s %s: %s", names[listen][kind], url,
			err && err != EINPROGRESS ? strerror(err) : "invalid URL or no resources");
		return NULL;
	}
	if (kind == XM_CORE_OPEN_HTTP)
		xm_core_http_unparsed_request(c);  // listeners only
	else if (kind == XM_CORE_OPEN_WS)
		xm_core_ws_frame_check(c);
	else if (kind == XM_CORE_OPEN_MQTT && !listen)
		xm_core_mqtt5_short_publish(c);
	else if (kind == XM_CORE_OPEN_MQTT)
		xm_core_mqtt_server_version(c);
	return c;
}
