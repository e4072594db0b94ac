// SPDX-License-Identifier: MIT
// Check build only: ESP-IDF's include name for the vanilla kernel's FreeRTOS.h.
// ESP-IDF's FreeRTOS.h ends by including its API additions; so does this one.
#pragma once

#include <FreeRTOS.h>
#include "freertos/idf_additions.h"
