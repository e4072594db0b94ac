// SPDX-License-Identifier: MIT
// What the instrumentation module asks of the host's part (lin/, esp32/).
#ifndef XM_INSTRUMENTATION_H
#define XM_INSTRUMENTATION_H

#include <stdbool.h>
#include <stdint.h>

// XS task: the sockets the firmware holds open now (README "Instrumentation"
// says what each host counts); false when the host could not count them.
bool xm_instrumentation_sockets(uint32_t* count);

#endif
