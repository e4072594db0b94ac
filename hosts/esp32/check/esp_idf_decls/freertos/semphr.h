// SPDX-License-Identifier: MIT
// Check build only: ESP-IDF's include name for the vanilla kernel's semphr.h.
#pragma once

#include <semphr.h>
