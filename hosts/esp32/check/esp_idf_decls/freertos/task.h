// SPDX-License-Identifier: MIT
// Check build only: ESP-IDF's include name for the vanilla kernel's task.h.
#pragma once

#include <task.h>
