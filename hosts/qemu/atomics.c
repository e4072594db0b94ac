// SPDX-License-Identifier: MIT
// The GCC atomic helpers rv32imc code calls (no A extension: the compiler
// emits calls), as ESP-IDF supplies them for the ESP32-C3. One hart: with
// machine interrupts off, nothing else runs between the read and the write,
// in a task or in an interrupt. Only the helpers the link asks for, with
// GCC's own signatures (unsigned int for 4 bytes).
#include <stdint.h>

#define MSTATUS_MIE 8u

static uint32_t interrupts_off(void)
{
	uint32_t saved;
	__asm volatile("csrrci %0, mstatus, %1" : "=r"(saved) : "i"(MSTATUS_MIE) : "memory");
	return saved & MSTATUS_MIE;
}

static void interrupts_restore(uint32_t saved)
{
	__asm volatile("csrs mstatus, %0" ::"r"(saved) : "memory");
}

uint8_t __atomic_exchange_1(volatile void* p, uint8_t value, int order)
{
	(void)order;
	uint32_t saved = interrupts_off();
	uint8_t old = *(volatile uint8_t*)p;
	*(volatile uint8_t*)p = value;
	interrupts_restore(saved);
	return old;
}

unsigned int __atomic_exchange_4(volatile void* p, unsigned int value, int order)
{
	(void)order;
	uint32_t saved = interrupts_off();
	unsigned int old = *(volatile unsigned int*)p;
	*(volatile unsigned int*)p = value;
	interrupts_restore(saved);
	return old;
}

unsigned int __atomic_fetch_add_4(volatile void* p, unsigned int value, int order)
{
	(void)order;
	uint32_t saved = interrupts_off();
	unsigned int old = *(volatile unsigned int*)p;
	*(volatile unsigned int*)p = old + value;
	interrupts_restore(saved);
	return old;
}

unsigned int __atomic_fetch_sub_4(volatile void* p, unsigned int value, int order)
{
	(void)order;
	uint32_t saved = interrupts_off();
	unsigned int old = *(volatile unsigned int*)p;
	*(volatile unsigned int*)p = old - value;
	interrupts_restore(saved);
	return old;
}

// xm_stop's (the --timeout task's call, board.c).
_Bool __atomic_compare_exchange_4(volatile void* p, void* expected, unsigned int desired, _Bool weak, int success, int failure)
{
	(void)weak;
	(void)success;
	(void)failure;
	uint32_t saved = interrupts_off();
	unsigned int old = *(volatile unsigned int*)p;
	_Bool same = old == *(unsigned int*)expected;
	if (same)
		*(volatile unsigned int*)p = desired;
	else
		*(unsigned int*)expected = old;
	interrupts_restore(saved);
	return same;
}
