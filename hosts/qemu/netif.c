// SPDX-License-Identifier: MIT
// The network of net.h on the virtual board: lwIP (its tcpip task) on the first
// virtio-net device, with QEMU's user network's fixed addresses. Static rather
// than DHCP: slirp always gives 10.0.2.15, and a static address is up at once,
// without a round trip before the app starts.
#include "net.h"
#include "virtio_net.h"

#include <stdio.h>
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"

#define ADDRESS "10.0.2.15"
#define NETMASK "255.255.255.0"
#define GATEWAY "10.0.2.2"
// Where ESP-IDF runs its Wi-Fi task: above lwIP's tcpip task (18), which it feeds.
#define RECEIVE_PRIORITY 23

static struct netif board_netif;
static virtio_net_t* device;
static void (*on_ready)(void);

// lwIP's tcpip task: the only sender.
static err_t link_output(struct netif* netif, struct pbuf* p)
{
	if (p->tot_len > VIRTIO_NET_FRAME_MAX)
		return ERR_BUF;
	virtio_net_t* dev = netif->state;
	pbuf_copy_partial(p, virtio_net_frame(dev), p->tot_len, 0);
	virtio_net_send(dev, p->tot_len);
	return ERR_OK;
}

// The device's receive task: a frame lwIP cannot take now (no memory, its
// mailbox full) is dropped, as a NIC drops it, and TCP sends it again.
static void receive(void* context, const uint8_t* frame, size_t length)
{
	struct netif* netif = context;
	struct pbuf* p = pbuf_alloc(PBUF_RAW, (u16_t)length, PBUF_RAM);
	if (!p)
		return;
	pbuf_take(p, frame, (u16_t)length);
	if (netif->input(p, netif) != ERR_OK)
		pbuf_free(p);
}

static err_t board_netif_init(struct netif* netif)
{
	netif->name[0] = 'v';
	netif->name[1] = 'n';
	netif->output = etharp_output;
	netif->linkoutput = link_output;
	netif->mtu = 1500;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, virtio_net_mac(netif->state), ETH_HWADDR_LEN);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	return ERR_OK;
}

// On lwIP's tcpip task, once it runs.
static void up(void* arg)
{
	(void)arg;
	ip4_addr_t address, netmask, gateway;
	ip4addr_aton(ADDRESS, &address);
	ip4addr_aton(NETMASK, &netmask);
	ip4addr_aton(GATEWAY, &gateway);
	if (!netif_add(&board_netif, &address, &netmask, &gateway, device, board_netif_init, tcpip_input) ||
			!virtio_net_start(device, receive, &board_netif, RECEIVE_PRIORITY)) {
		fprintf(stderr, "xsmg: network: cannot start virtio-net (not enough memory); the app starts without network\n");
		on_ready();
		return;
	}
	netif_set_default(&board_netif);
	netif_set_link_up(&board_netif);
	netif_set_up(&board_netif);
	on_ready();
}

bool xm_net_start(void (*ready)(void))
{
	device = virtio_net_open(0);
	if (!device) {
		fprintf(stderr, "xsmg: network: no virtio-net device; the app starts without network\n");
		return false;
	}
	on_ready = ready;
	tcpip_init(up, NULL);
	return true;
}
