// SPDX-License-Identifier: MIT
// virtio-net on virtio-mmio (virtio 1.x, sections 4.2 and 5.1, and the legacy
// interface QEMU 7.2 presents by default). Frames are copied through buffers of
// our own, one descriptor each, posted once: no offloads, no mergeable buffers,
// so every frame fits one buffer and the device never holds lwIP's memory.
#include "virtio_net.h"
#include "plic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freertos/FreeRTOS.h"
#include "freertos/semphr.h"
#include "freertos/task.h"

// QEMU's virt machine: eight transports, 4 KiB apart, on PLIC sources 1 to 8.
#define SLOTS 8
#define SLOT_BASE(i) (0x10001000u + 0x1000u * (i))
#define SLOT_IRQ(i) (1u + (i))

enum {
	MAGIC = 0x000,
	VERSION = 0x004,
	DEVICE_ID = 0x008,
	DEVICE_FEATURES = 0x010,
	DEVICE_FEATURES_SEL = 0x014,
	DRIVER_FEATURES = 0x020,
	DRIVER_FEATURES_SEL = 0x024,
	LEGACY_GUEST_PAGE_SIZE = 0x028,
	QUEUE_SEL = 0x030,
	QUEUE_NUM_MAX = 0x034,
	QUEUE_NUM = 0x038,
	LEGACY_QUEUE_ALIGN = 0x03c,
	LEGACY_QUEUE_PFN = 0x040,
	QUEUE_READY = 0x044,
	QUEUE_NOTIFY = 0x050,
	INTERRUPT_STATUS = 0x060,
	INTERRUPT_ACK = 0x064,
	STATUS = 0x070,
	QUEUE_DESC_LOW = 0x080,
	QUEUE_DRIVER_LOW = 0x090,
	QUEUE_DEVICE_LOW = 0x0a0,
	CONFIG = 0x100,  // the net device's: its MAC address first
};

#define MAGIC_VALUE 0x74726976u  // "virt"
#define DEVICE_NET 1u
#define STATUS_ACKNOWLEDGE 1u
#define STATUS_DRIVER 2u
#define STATUS_DRIVER_OK 4u
#define STATUS_FEATURES_OK 8u
#define STATUS_FAILED 128u
#define FEATURE_MAC (1u << 5)
#define FEATURE_VERSION_1 (1u << 0)  // bit 32, in the second feature word
#define DESC_WRITE 2u
#define AVAIL_NO_INTERRUPT 1u

#define RX 0u
#define TX 1u
#define QUEUE_SIZE 8u
// Frames waiting for the receive task, which copies each into a pbuf at once
// (netif.c). 4 and 2 buffers of 1,536 bytes, 9 KiB of the --ram budget where 8
// and 4 took 18 KiB, so that the demo serves at --ram 256: QEMU's virtio-net
// keeps a frame in its queue while the ring has no free buffer, so fewer cost
// time in a burst, not frames.
#define RX_BUFFERS 4u
// Frames the device has not yet taken. QEMU takes them on its own thread: a
// sender finding them all taken waits for the device's interrupt.
#define TX_BUFFERS 2u
// The largest net header (12 bytes) and frame, rounded up to a 16-byte multiple.
#define BUFFER 1536u
#define RX_TASK_STACK 2048

// A split virtqueue in the legacy layout with a 16-byte alignment, which
// version 2 accepts as well: the used ring starts at the first 16-byte
// boundary after the available ring's index entries. The usual 4 KiB
// alignment would waste most of a page per queue.
#define ALIGN 16u
struct queue {
	struct {
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;
	} desc[QUEUE_SIZE];
	struct {
		uint16_t flags;
		volatile uint16_t idx;
		uint16_t ring[QUEUE_SIZE];
	} avail;
	volatile struct {
		uint16_t flags, idx;
		struct {
			uint32_t id, len;
		} ring[QUEUE_SIZE];
	} used __attribute__((aligned(ALIGN)));
};
_Static_assert(__builtin_offsetof(struct queue, used) ==
		((QUEUE_SIZE * 16u + 4u + 2u * QUEUE_SIZE + ALIGN - 1) & ~(ALIGN - 1)),
	"the used ring must sit where the legacy layout puts it");

struct virtio_net {
	struct queue rx, tx;  // first: the allocation's alignment is theirs
	uint8_t rx_buffer[RX_BUFFERS][BUFFER];
	uint8_t tx_buffer[TX_BUFFERS][BUFFER];
	uintptr_t base;
	unsigned irq;
	size_t header;
	uint8_t mac[6];
	uint16_t rx_seen, tx_seen;
	uint16_t tx_free[TX_BUFFERS];
	unsigned tx_free_count;
	TaskHandle_t task;
	SemaphoreHandle_t tx_returned;
	volatile bool tx_waiting;
	virtio_net_receive_t receive;
	void* context;
};

static uint32_t get(uintptr_t base, unsigned offset)
{
	return *(volatile uint32_t*)(base + offset);
}

static void set(uintptr_t base, unsigned offset, uint32_t value)
{
	*(volatile uint32_t*)(base + offset) = value;
}

// Orders our ring writes before the device's reads (and its writes before ours):
// the device is QEMU's I/O thread, which runs beside the hart.
static void fence(void)
{
	__sync_synchronize();
}

static bool refuse(uintptr_t base, const char* why)
{
	set(base, STATUS, get(base, STATUS) | STATUS_FAILED);
	fprintf(stderr, "xsmg: virtio-net at 0x%08lx: %s\n", (unsigned long)base, why);
	return false;
}

static bool negotiate(uintptr_t base, uint32_t version)
{
	set(base, DEVICE_FEATURES_SEL, 0);
	if (!(get(base, DEVICE_FEATURES) & FEATURE_MAC))
		return refuse(base, "no MAC address offered");
	set(base, DRIVER_FEATURES_SEL, 0);
	set(base, DRIVER_FEATURES, FEATURE_MAC);
	if (version == 1) {
		set(base, LEGACY_GUEST_PAGE_SIZE, ALIGN);
		return true;
	}
	set(base, DEVICE_FEATURES_SEL, 1);
	if (!(get(base, DEVICE_FEATURES) & FEATURE_VERSION_1))
		return refuse(base, "version 2 transport without VIRTIO_F_VERSION_1");
	set(base, DRIVER_FEATURES_SEL, 1);
	set(base, DRIVER_FEATURES, FEATURE_VERSION_1);
	set(base, STATUS, get(base, STATUS) | STATUS_FEATURES_OK);
	if (!(get(base, STATUS) & STATUS_FEATURES_OK))
		return refuse(base, "features refused");
	return true;
}

static bool queue_setup(virtio_net_t* dev, uint32_t version, unsigned index, struct queue* q)
{
	set(dev->base, QUEUE_SEL, index);
	if (get(dev->base, QUEUE_NUM_MAX) < QUEUE_SIZE)
		return refuse(dev->base, "queues too short");
	set(dev->base, QUEUE_NUM, QUEUE_SIZE);
	if (version == 1) {
		set(dev->base, LEGACY_QUEUE_ALIGN, ALIGN);
		set(dev->base, LEGACY_QUEUE_PFN, (uint32_t)(uintptr_t)q / ALIGN);
	} else {
		set(dev->base, QUEUE_DESC_LOW, (uint32_t)(uintptr_t)q->desc);
		set(dev->base, QUEUE_DRIVER_LOW, (uint32_t)(uintptr_t)&q->avail);
		set(dev->base, QUEUE_DEVICE_LOW, (uint32_t)(uintptr_t)&q->used);
		set(dev->base, QUEUE_READY, 1);
	}
	return true;
}

static virtio_net_t* setup(uintptr_t base, unsigned slot)
{
	uint32_t version = get(base, VERSION);
	if (version != 1 && version != 2) {
		refuse(base, "unknown transport version");
		return NULL;
	}
	set(base, STATUS, 0);
	set(base, STATUS, STATUS_ACKNOWLEDGE);
	set(base, STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
	if (!negotiate(base, version))
		return NULL;
	size_t size = (sizeof(virtio_net_t) + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	virtio_net_t* dev = aligned_alloc(ALIGN, size);
	SemaphoreHandle_t tx_returned = xSemaphoreCreateBinary();
	if (!dev || !tx_returned) {
		free(dev);
		if (tx_returned)
			vSemaphoreDelete(tx_returned);
		refuse(base, "not enough memory");
		return NULL;
	}
	memset(dev, 0, sizeof(*dev));
	dev->tx_returned = tx_returned;
	dev->base = base;
	dev->irq = SLOT_IRQ(slot);
	// With VIRTIO_F_VERSION_1 the header always ends with num_buffers; without
	// it (and without mergeable buffers) it is 10 bytes.
	dev->header = version == 1 ? 10 : 12;
	for (unsigned i = 0; i < RX_BUFFERS; i++) {
		dev->rx.desc[i].addr = (uintptr_t)dev->rx_buffer[i];
		dev->rx.desc[i].len = BUFFER;
		dev->rx.desc[i].flags = DESC_WRITE;
		dev->rx.avail.ring[i] = (uint16_t)i;
	}
	dev->rx.avail.idx = RX_BUFFERS;
	for (unsigned i = 0; i < TX_BUFFERS; i++) {
		dev->tx.desc[i].addr = (uintptr_t)dev->tx_buffer[i];
		dev->tx_free[i] = (uint16_t)i;
	}
	dev->tx_free_count = TX_BUFFERS;
	// Sent frames are reclaimed when the next is sent: no interrupt, unless a
	// sender waits for a buffer (virtio_net_frame).
	dev->tx.avail.flags = AVAIL_NO_INTERRUPT;
	if (!queue_setup(dev, version, RX, &dev->rx) || !queue_setup(dev, version, TX, &dev->tx)) {
		vSemaphoreDelete(dev->tx_returned);
		free(dev);
		return NULL;
	}
	for (unsigned i = 0; i < sizeof(dev->mac); i++)
		dev->mac[i] = *(volatile uint8_t*)(base + CONFIG + i);
	fence();
	set(base, STATUS, get(base, STATUS) | STATUS_DRIVER_OK);
	set(base, QUEUE_NOTIFY, RX);
	return dev;
}

// QEMU fills the transports from the last slot down, so the first
// -device virtio-net-device on its command line is the highest-numbered slot.
virtio_net_t* virtio_net_open(unsigned index)
{
	unsigned found = 0;
	for (unsigned slot = SLOTS; slot-- > 0;) {
		uintptr_t base = SLOT_BASE(slot);
		if (get(base, MAGIC) != MAGIC_VALUE || get(base, DEVICE_ID) != DEVICE_NET)
			continue;
		if (found++ == index)
			return setup(base, slot);
	}
	return NULL;
}

const uint8_t* virtio_net_mac(const virtio_net_t* dev)
{
	return dev->mac;
}

static void receive_task(void* arg)
{
	virtio_net_t* dev = arg;
	for (;;) {
		ulTaskNotifyTake(pdTRUE, portMAX_DELAY);
		while (dev->rx_seen != dev->rx.used.idx) {
			fence();
			uint32_t id = dev->rx.used.ring[dev->rx_seen % QUEUE_SIZE].id;
			uint32_t length = dev->rx.used.ring[dev->rx_seen % QUEUE_SIZE].len;
			dev->rx_seen++;
			if (id >= RX_BUFFERS)
				continue;  // not ours: a device that did this is broken, and it is not given back
			if (length > dev->header)
				dev->receive(dev->context, dev->rx_buffer[id] + dev->header, length - dev->header);
			dev->rx.avail.ring[dev->rx.avail.idx % QUEUE_SIZE] = (uint16_t)id;
			fence();
			dev->rx.avail.idx++;
		}
		fence();
		set(dev->base, QUEUE_NOTIFY, RX);
	}
}

// In the interrupt: the acknowledgement lowers the device's line, the tasks do
// the rest. The status does not say which queue moved: both are told.
static bool interrupted(void* arg)
{
	virtio_net_t* dev = arg;
	set(dev->base, INTERRUPT_ACK, get(dev->base, INTERRUPT_STATUS));
	BaseType_t woken = pdFALSE;
	vTaskNotifyGiveFromISR(dev->task, &woken);
	if (dev->tx_waiting)
		xSemaphoreGiveFromISR(dev->tx_returned, &woken);
	return woken != pdFALSE;
}

bool virtio_net_start(virtio_net_t* dev, virtio_net_receive_t receive, void* context, unsigned priority)
{
	dev->receive = receive;
	dev->context = context;
	if (xTaskCreatePinnedToCore(receive_task, "virtio-net", RX_TASK_STACK, dev, priority, &dev->task,
			tskNO_AFFINITY) != pdPASS)
		return false;
	if (!plic_attach(dev->irq, interrupted, dev))
		return false;
	// Frames that came before the interrupt was attached.
	xTaskNotifyGive(dev->task);
	return true;
}

static bool reclaim(virtio_net_t* dev)
{
	while (dev->tx_seen != dev->tx.used.idx) {
		fence();
		uint32_t id = dev->tx.used.ring[dev->tx_seen % QUEUE_SIZE].id;
		dev->tx_seen++;
		if (id < TX_BUFFERS)
			dev->tx_free[dev->tx_free_count++] = (uint16_t)id;
	}
	return dev->tx_free_count > 0;
}

// The wait has a time limit (a tick): a lost interrupt costs that much, never
// the tcpip task.
uint8_t* virtio_net_frame(virtio_net_t* dev)
{
	while (!reclaim(dev)) {
		dev->tx_waiting = true;
		dev->tx.avail.flags = 0;
		fence();
		if (!reclaim(dev))
			xSemaphoreTake(dev->tx_returned, 1);
		dev->tx.avail.flags = AVAIL_NO_INTERRUPT;
		dev->tx_waiting = false;
	}
	uint8_t* buffer = dev->tx_buffer[dev->tx_free[dev->tx_free_count - 1]];
	memset(buffer, 0, dev->header);  // no checksum or segmentation offload asked
	return buffer + dev->header;
}

void virtio_net_send(virtio_net_t* dev, size_t length)
{
	uint16_t id = dev->tx_free[--dev->tx_free_count];
	dev->tx.desc[id].len = (uint32_t)(dev->header + length);
	dev->tx.avail.ring[dev->tx.avail.idx % QUEUE_SIZE] = id;
	fence();
	dev->tx.avail.idx++;
	fence();
	set(dev->base, QUEUE_NOTIFY, TX);
}
