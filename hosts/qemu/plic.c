// SPDX-License-Identifier: MIT
// The virt machine's PLIC (QEMU hw/riscv/virt.c: at 0x0c000000, context 0 is
// hart 0's machine mode). The kernel's RISC-V port enables external interrupts
// (mie.MEIE) when it starts; each source stays masked here until attached.
#include "plic.h"

#include <stdint.h>

#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#define PLIC 0x0c000000u
#define PRIORITY(source) ((volatile uint32_t*)(PLIC + 4u * (source)))
#define ENABLE(word) ((volatile uint32_t*)(PLIC + 0x2000u + 4u * (word)))
#define THRESHOLD ((volatile uint32_t*)(PLIC + 0x200000u))
#define CLAIM ((volatile uint32_t*)(PLIC + 0x200004u))
#define SOURCES 96  // virt's VIRT_IRQCHIP_NUM_SOURCES
#define MCAUSE_EXTERNAL 0x8000000bu

static struct {
	plic_handler_t handler;
	void* context;
} attached[SOURCES];

bool plic_attach(unsigned source, plic_handler_t handler, void* context)
{
	if (source == 0 || source >= SOURCES || attached[source].handler)
		return false;
	taskENTER_CRITICAL();
	attached[source].handler = handler;
	attached[source].context = context;
	*THRESHOLD = 0;
	*PRIORITY(source) = 1;
	*ENABLE(source / 32) |= 1u << (source % 32);
	taskEXIT_CRITICAL();
	return true;
}

// The kernel's trap entry calls this for every interrupt but its tick, on the
// interrupt stack with interrupts off. Sources are claimed until none is left,
// so that one trap serves devices that interrupted together.
void freertos_risc_v_application_interrupt_handler(void)
{
	uint32_t cause;
	__asm volatile("csrr %0, mcause" : "=r"(cause));
	if (cause != MCAUSE_EXTERNAL)
		return;
	BaseType_t woken = pdFALSE;
	for (uint32_t source; (source = *CLAIM) != 0;) {
		if (source < SOURCES && attached[source].handler && attached[source].handler(attached[source].context))
			woken = pdTRUE;
		*CLAIM = source;
	}
	portYIELD_FROM_ISR(woken);
}
