// SPDX-License-Identifier: MIT
// The virt machine's interrupt controller (PLIC), as hart 0 in machine mode sees it.
#ifndef XM_QEMU_PLIC_H
#define XM_QEMU_PLIC_H

#include <stdbool.h>

// Runs in the interrupt: returns true when it woke a task that should run now.
typedef bool (*plic_handler_t)(void* context);

// Before the source can interrupt (any task, interrupts may be on): routes the
// source's interrupts to handler, which the kernel's trap entry calls through
// freertos_risc_v_application_interrupt_handler. Returns false for a source
// number virt does not have or one already taken.
bool plic_attach(unsigned source, plic_handler_t handler, void* context);

#endif
