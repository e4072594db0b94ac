// SPDX-License-Identifier: MIT
// A virtio-net device on the virt machine's virtio-mmio transport (QEMU's
// -device virtio-net-device), legacy (QEMU 7.2's default) or version 2. No
// lwIP here: frames in and out as bytes; netif.c joins them to lwIP.
#ifndef XM_QEMU_VIRTIO_NET_H
#define XM_QEMU_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// The largest Ethernet frame either way (no offloads are negotiated), FCS excluded.
#define VIRTIO_NET_FRAME_MAX 1514

typedef struct virtio_net virtio_net_t;

// Called on the device's receive task, once per frame, in order; the frame's
// bytes are the device's again when it returns.
typedef void (*virtio_net_receive_t)(void* context, const uint8_t* frame, size_t length);

// Any task, before the scheduler or after: finds the index-th network device
// (0: the first) among virt's eight virtio-mmio slots and readies it, its
// receive buffers posted but nothing delivered yet. NULL, said on the console
// when a device is there but refuses us, when there is none or no memory.
virtio_net_t* virtio_net_open(unsigned index);

const uint8_t* virtio_net_mac(const virtio_net_t* dev);

// Once: starts the task (at priority) that hands received frames to receive,
// woken by the device's interrupt. False when the task cannot be created.
bool virtio_net_start(virtio_net_t* dev, virtio_net_receive_t receive, void* context, unsigned priority);

// One sending task at a time (lwIP's tcpip task): a buffer of
// VIRTIO_NET_FRAME_MAX bytes for the next frame, waiting while the device
// still holds every transmit buffer; then send it with its length.
uint8_t* virtio_net_frame(virtio_net_t* dev);
void virtio_net_send(virtio_net_t* dev, size_t length);

#endif
