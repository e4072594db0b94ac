// SPDX-License-Identifier: MIT
// Check build only: the two ESP-IDF 5.x additions to FreeRTOS that the port uses,
// with ESP-IDF's signatures, mapped onto the vanilla V11 kernel, which has
// neither. (ESP-IDF declares xTaskCreatePinnedToCore in its task.h and
// pxTaskGetStackStart in idf_additions.h; both arrive through FreeRTOS.h.)
#pragma once

#include <FreeRTOS.h>
#include <task.h>

// ESP-IDF's value (its task.h); V11's single-core kernel has its own.
#undef tskNO_AFFINITY
#define tskNO_AFFINITY ((BaseType_t)0x7FFFFFFF)

// ESP-IDF counts a stack in bytes, the vanilla kernel in StackType_t words; a
// single-core kernel has no affinity to set.
static inline BaseType_t xTaskCreatePinnedToCore(TaskFunction_t pxTaskCode, const char* const pcName,
	const configSTACK_DEPTH_TYPE usStackDepth, void* const pvParameters, UBaseType_t uxPriority,
	TaskHandle_t* const pvCreatedTask, const BaseType_t xCoreID)
{
	(void)xCoreID;
	return xTaskCreate(pxTaskCode, pcName, usStackDepth / sizeof(StackType_t), pvParameters, uxPriority, pvCreatedTask);
}

// The lowest address of xTask's stack (NULL: the calling task).
static inline uint8_t* pxTaskGetStackStart(TaskHandle_t xTask)
{
	TaskStatus_t status;
	vTaskGetInfo(xTask, &status, pdFALSE, eInvalid);
	return (uint8_t*)status.pxStackBase;
}
