package dpdk

/*
#include <stdlib.h>
#include <string.h>
#include <rte_ethdev.h>

// fcp_reta_update writes n entries (n a multiple of RTE_ETH_RETA_GROUP_SIZE)
// into the port's redirection table, every entry selected.
static int fcp_reta_update(uint16_t port, const uint16_t *q, uint16_t n) {
	uint16_t groups = n / RTE_ETH_RETA_GROUP_SIZE;
	struct rte_eth_rss_reta_entry64 *c = calloc(groups, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	for (uint16_t i = 0; i < n; i++) {
		c[i / RTE_ETH_RETA_GROUP_SIZE].mask = ~0ULL;
		c[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = q[i];
	}
	int ret = rte_eth_dev_rss_reta_update(port, c, n);
	free(c);
	return ret;
}

// fcp_reta_query reads n entries of the port's redirection table.
static int fcp_reta_query(uint16_t port, uint16_t *q, uint16_t n) {
	uint16_t groups = n / RTE_ETH_RETA_GROUP_SIZE;
	struct rte_eth_rss_reta_entry64 *c = calloc(groups, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	for (uint16_t g = 0; g < groups; g++)
		c[g].mask = ~0ULL;
	int ret = rte_eth_dev_rss_reta_query(port, c, n);
	if (ret == 0)
		for (uint16_t i = 0; i < n; i++)
			q[i] = c[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
	free(c);
	return ret;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// RETAGroupSize is the granularity of redirection table updates
// (RTE_ETH_RETA_GROUP_SIZE): a table's size is a multiple of it.
const RETAGroupSize = C.RTE_ETH_RETA_GROUP_SIZE

// RSSRETAUpdate writes the port's whole RSS redirection table
// (rte_eth_dev_rss_reta_update): entry i sends hash values whose low bits
// are i to receive queue queues[i]. len(queues) must be the port's
// PortInfo.RetaSize, a multiple of RETAGroupSize; the port must be
// configured with RSS. Control plane only.
func (p Port) RSSRETAUpdate(queues []uint16) error {
	n := len(queues)
	if n == 0 || n%RETAGroupSize != 0 || n > 1<<16-1 {
		return fmt.Errorf("dpdk: RETA update port %d: %d entries; give PortInfo.RetaSize entries, a multiple of %d", p, n, RETAGroupSize)
	}
	return errRet(C.fcp_reta_update(C.uint16_t(p), (*C.uint16_t)(unsafe.Pointer(&queues[0])), C.uint16_t(n)),
		"rte_eth_dev_rss_reta_update(port %d, %d entries): the port must be configured with RSS and take PortInfo.RetaSize entries", p, n)
}

// RSSRETAQuery reads the port's first n redirection table entries
// (rte_eth_dev_rss_reta_query); n must be a multiple of RETAGroupSize.
func (p Port) RSSRETAQuery(n int) ([]uint16, error) {
	if n <= 0 || n%RETAGroupSize != 0 || n > 1<<16-1 {
		return nil, fmt.Errorf("dpdk: RETA query port %d: %d entries; ask for a multiple of %d", p, n, RETAGroupSize)
	}
	q := make([]uint16, n)
	if err := errRet(C.fcp_reta_query(C.uint16_t(p), (*C.uint16_t)(unsafe.Pointer(&q[0])), C.uint16_t(n)),
		"rte_eth_dev_rss_reta_query(port %d, %d entries)", p, n); err != nil {
		return nil, err
	}
	return q, nil
}
