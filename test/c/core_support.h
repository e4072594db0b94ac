// SPDX-License-Identifier: MIT
// What the mongoose core's tests share: a handler that records the events it
// gets, and connections made without a socket, fed by hand with mg_call.
#ifndef CORE_SUPPORT_H
#define CORE_SUPPORT_H

#include "xm_core.h"

typedef struct {
	int events[64];   // every event, in order (the first 64)
	size_t count;
	char error[128];  // the text of the last MG_EV_ERROR
	struct mg_str data;  // a copy of the last WS_MSG's or MQTT_MSG's data, freed by core_free
	char* owned;
} recorder_t;

// The application's handler (c->fn) of every test connection; fn_data is a recorder_t.
void core_record(struct mg_connection* c, int ev, void* ev_data);
// How many times rec saw ev.
size_t core_seen(const recorder_t* rec, int ev);
void core_free(recorder_t* rec);

// A manager whose log is silent (the tests provoke mongoose's errors).
void core_mgr_init(struct mg_mgr* mgr);

// A connection of mgr without a socket, as mongoose accepts one from listener
// (its protocol handler and flags), recording into rec; end it with core_drop
// before mg_mgr_free, which would close socket 0 for it.
struct mg_connection* core_accepted(struct mg_mgr* mgr, const struct mg_connection* listener, recorder_t* rec);
void core_drop(struct mg_connection* c);

// Appends bytes to c's receive buffer and fires MG_EV_READ, as mongoose does on a read.
void core_receive(struct mg_connection* c, const void* data, size_t size);

// Feeds data to c in reads of chunk bytes, as if each answer were written at
// once (the send buffer emptied), until c closes (the fuzz targets).
void core_receive_chunks(struct mg_connection* c, const uint8_t* data, size_t size, size_t chunk);

// Traps unless a and b hold the same bytes (the fuzz targets' comparisons).
void core_same_or_trap(struct mg_str a, struct mg_str b);

// true when c's send buffer starts with text.
bool core_sent_starts(const struct mg_connection* c, const char* text);

#endif
