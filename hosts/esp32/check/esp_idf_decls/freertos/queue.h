// SPDX-License-Identifier: MIT
// Check build only: ESP-IDF's include name for the vanilla kernel's queue.h.
#pragma once

#include <queue.h>
