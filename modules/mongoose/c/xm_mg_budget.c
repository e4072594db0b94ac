// SPDX-License-Identifier: MIT
// The memory budget of network input, XS task only, for both front ends. A
// message (an HTTP request or response, a WebSocket or MQTT message) goes to
// JavaScript only when its bytes, with those of the AsyncManager's message copies
// that JavaScript still holds, fit in the XS chunk heap's free space less a
// reserve (XM_HOST_HEAP_RESERVE) for the handlers' own work, and a share of the
// slots is free (SLOT_RESERVE): the moment a handler reads the body (text(), body)
// it is in the XS heap, and a handler that awaits something keeps it and its
// own objects there. Otherwise a collection runs (answered requests' copies are
// freed by it: XS collects only when full), and if the message still does not
// fit, the connection refuses it (core/message_refuse.c). An area the creation
// profile lets grow takes from the C heap instead: no budget for it then.
#include "xm_mg.h"
#include "xm_host_config.h"

// Bytes of message copies owned by JavaScript message objects, not yet collected.
static size_t held;

bool xm_mg_budget_counts(int ev)
{
	// Not HTTP_HDRS nor WS_OPEN: a head is bounded by mongoose's header limits.
	return ev == MG_EV_HTTP_MSG || ev == MG_EV_WS_MSG || ev == MG_EV_WS_CTL || ev == MG_EV_MQTT_CMD || ev == MG_EV_MQTT_MSG;
}

size_t xm_mg_budget_weight(int kind, const void* msg)
{
	if (kind == XM_MG_MSG_HTTP) {
		const struct mg_http_message* hm = msg;
		return hm->body.len == (size_t)~0 ? hm->head.len : hm->message.len;  // ~0: no Content-Length
	}
	if (kind == XM_MG_MSG_WS)
		return ((const struct mg_ws_message*)msg)->data.len;
	return ((const struct mg_mqtt_message*)msg)->dgram.len;
}

void xm_mg_budget_hold(int kind, const void* msg)
{
	held += xm_mg_budget_weight(kind, msg);
}

void xm_mg_budget_release(int kind, const void* msg)
{
	held -= xm_mg_budget_weight(kind, msg);
}

// The slots keep a reserve too, and a larger one: many connections each with a
// request in flight (a handler awaiting something) run out of slots long before
// chunks, and their handlers' resumptions need room of their own. With an eighth
// of the esp32 profile's slots kept, 100 such requests still ran XS out of slots
// in some ThreadSanitizer runs; with a quarter, in none (test/mongoose-memory).
#define SLOT_RESERVE 4

static bool fits(xsMachine* the, size_t bytes, size_t* free, size_t* slots)
{
	size_t size, count;
	*free = xm_stats_chunks_free(the, &size);
	*slots = xm_stats_slots_free(the, &count);
	size_t reserve = size / XM_HOST_HEAP_RESERVE + held;
	bool chunks_fit = *free == SIZE_MAX || (*free >= reserve && bytes <= *free - reserve);
	return chunks_fit && (*slots == SIZE_MAX || *slots >= count / SLOT_RESERVE);
}

bool xm_mg_budget_admit(xsMachine* the, size_t bytes, char* why, size_t size)
{
	size_t free, slots;
	if (fits(the, bytes, &free, &slots))
		return true;
	xsBeginHost(the);
	xsCollectGarbage();
	xsEndHost(the);
	if (fits(the, bytes, &free, &slots))
		return true;
	// An area that grows is not what is short: only the fixed ones are named.
	char room[64];
	if (free == SIZE_MAX)
		snprintf(room, sizeof(room), "%lu slots", (unsigned long)slots);
	else if (slots == SIZE_MAX)
		snprintf(room, sizeof(room), "%lu chunk bytes", (unsigned long)free);
	else
		snprintf(room, sizeof(room), "%lu chunk bytes and %lu slots", (unsigned long)free, (unsigned long)slots);
	snprintf(why, size, "a message of %lu bytes does not fit the XS heap (%s free, %lu bytes held by messages): refused",
		(unsigned long)bytes, room, (unsigned long)held);
	return false;
}
