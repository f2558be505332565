package dpdk

/*
#cgo noescape fcp_rx_burst
#cgo nocallback fcp_rx_burst
#cgo noescape fcp_tx_burst
#cgo nocallback fcp_tx_burst
#include <stdlib.h>
#include <string.h>
#include <rte_ethdev.h>

static uint16_t fcp_rx_burst(uint16_t port, uint16_t q, struct rte_mbuf **pkts, uint16_t n) {
	return rte_eth_rx_burst(port, q, pkts, n);
}
static uint16_t fcp_tx_burst(uint16_t port, uint16_t q, struct rte_mbuf **pkts, uint16_t n) {
	return rte_eth_tx_burst(port, q, pkts, n);
}

struct fcp_dev_info {
	char driver[64];
	char ifname[64];
	uint32_t if_index;
	uint16_t max_rxq, max_txq;
	uint64_t rx_capa, tx_capa, rss_capa;
	uint16_t reta_size;
	uint8_t key_size;
	uint16_t min_mtu, max_mtu;
	uint32_t max_rx_pktlen;
	uint16_t rx_desc_max, rx_desc_min, tx_desc_max, tx_desc_min;
};

static int fcp_dev_info(uint16_t port, struct fcp_dev_info *o) {
	struct rte_eth_dev_info di;
	int ret = rte_eth_dev_info_get(port, &di);
	if (ret != 0)
		return ret;
	memset(o, 0, sizeof(*o));
	if (di.driver_name != NULL)
		strncpy(o->driver, di.driver_name, sizeof(o->driver) - 1);
	o->if_index = di.if_index;
	o->max_rxq = di.max_rx_queues;
	o->max_txq = di.max_tx_queues;
	o->rx_capa = di.rx_offload_capa;
	o->tx_capa = di.tx_offload_capa;
	o->rss_capa = di.flow_type_rss_offloads;
	o->reta_size = di.reta_size;
	o->key_size = di.hash_key_size;
	o->min_mtu = di.min_mtu;
	o->max_mtu = di.max_mtu;
	o->max_rx_pktlen = di.max_rx_pktlen;
	o->rx_desc_max = di.rx_desc_lim.nb_max;
	o->rx_desc_min = di.rx_desc_lim.nb_min;
	o->tx_desc_max = di.tx_desc_lim.nb_max;
	o->tx_desc_min = di.tx_desc_lim.nb_min;
	return 0;
}

static int fcp_configure(uint16_t port, uint16_t nrx, uint16_t ntx, int rss, uint32_t mtu,
		uint64_t rxoff, uint64_t txoff, uint8_t *key, uint8_t keylen, uint64_t hf) {
	struct rte_eth_conf c;
	memset(&c, 0, sizeof(c));
	c.rxmode.mtu = mtu;
	c.rxmode.offloads = rxoff;
	c.txmode.offloads = txoff;
	if (rss) {
		c.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		c.rx_adv_conf.rss_conf.rss_key = key;
		c.rx_adv_conf.rss_conf.rss_key_len = keylen;
		c.rx_adv_conf.rss_conf.rss_hf = hf;
	}
	return rte_eth_dev_configure(port, nrx, ntx, &c);
}

static int fcp_link(uint16_t port, uint32_t *speed, int *up, int *full, int *autoneg) {
	struct rte_eth_link l;
	memset(&l, 0, sizeof(l));
	int ret = rte_eth_link_get_nowait(port, &l);
	*speed = l.link_speed;
	*up = l.link_status;
	*full = l.link_duplex;
	*autoneg = l.link_autoneg;
	return ret;
}

static int fcp_rss_update(uint16_t port, uint8_t *key, uint8_t keylen, uint64_t hf) {
	struct rte_eth_rss_conf c = { .rss_key = key, .rss_key_len = keylen, .rss_hf = hf };
	return rte_eth_dev_rss_hash_update(port, &c);
}

static int fcp_rss_get(uint16_t port, uint8_t *key, uint8_t keylen, uint8_t *outlen, uint64_t *hf) {
	struct rte_eth_rss_conf c = { .rss_key = key, .rss_key_len = keylen };
	int ret = rte_eth_dev_rss_hash_conf_get(port, &c);
	*outlen = c.rss_key_len;
	*hf = c.rss_hf;
	return ret;
}
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// Port is an ethdev port id. Its methods wrap the rte_eth_* calls on that
// port; the burst calls are safe from one thread per queue at a time, the
// others belong to the control plane.
type Port uint16

// RSS hash types (RTE_ETH_RSS_*), for RSSConf.Types and FlowActionRSS.
const (
	RSSIPv4           = uint64(C.RTE_ETH_RSS_IPV4)
	RSSFragIPv4       = uint64(C.RTE_ETH_RSS_FRAG_IPV4)
	RSSNonfragIPv4TCP = uint64(C.RTE_ETH_RSS_NONFRAG_IPV4_TCP)
	RSSNonfragIPv4UDP = uint64(C.RTE_ETH_RSS_NONFRAG_IPV4_UDP)
	RSSIPv6           = uint64(C.RTE_ETH_RSS_IPV6)
	RSSFragIPv6       = uint64(C.RTE_ETH_RSS_FRAG_IPV6)
	RSSNonfragIPv6TCP = uint64(C.RTE_ETH_RSS_NONFRAG_IPV6_TCP)
	RSSNonfragIPv6UDP = uint64(C.RTE_ETH_RSS_NONFRAG_IPV6_UDP)
	// RSSIP is every IPv4 and IPv6 type (RTE_ETH_RSS_IP).
	RSSIP = uint64(C.RTE_ETH_RSS_IP)
	// RSSTCP is TCP over IPv4 and IPv6 (RTE_ETH_RSS_TCP).
	RSSTCP = uint64(C.RTE_ETH_RSS_TCP)
	// RSSUDP is UDP over IPv4 and IPv6 (RTE_ETH_RSS_UDP).
	RSSUDP = uint64(C.RTE_ETH_RSS_UDP)
)

// Offload capability and request bits (RTE_ETH_RX_OFFLOAD_*,
// RTE_ETH_TX_OFFLOAD_*) for PortInfo and PortConf.
const (
	RxOffloadIPv4Cksum = uint64(C.RTE_ETH_RX_OFFLOAD_IPV4_CKSUM)
	RxOffloadTCPCksum  = uint64(C.RTE_ETH_RX_OFFLOAD_TCP_CKSUM)
	RxOffloadUDPCksum  = uint64(C.RTE_ETH_RX_OFFLOAD_UDP_CKSUM)
	RxOffloadScatter   = uint64(C.RTE_ETH_RX_OFFLOAD_SCATTER)
	RxOffloadRSSHash   = uint64(C.RTE_ETH_RX_OFFLOAD_RSS_HASH)
	TxOffloadIPv4Cksum = uint64(C.RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
	TxOffloadTCPCksum  = uint64(C.RTE_ETH_TX_OFFLOAD_TCP_CKSUM)
	TxOffloadUDPCksum  = uint64(C.RTE_ETH_TX_OFFLOAD_UDP_CKSUM)
	TxOffloadMultiSegs = uint64(C.RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
)

// SymmetricRSSKey returns an n-byte Toeplitz key made of the repeated pair
// 0x6d, 0x5a. With it the hash of (src, dst) equals the hash of (dst, src),
// so both directions of a connection land on the same queue. n is the
// port's PortInfo.HashKeySize (40 on most NICs, 52 on some).
func SymmetricRSSKey(n int) []byte {
	k := make([]byte, n)
	for i := range k {
		if i%2 == 0 {
			k[i] = 0x6d
		} else {
			k[i] = 0x5a
		}
	}
	return k
}

// PortByName returns the port of a device name: a vdev name such as
// "net_af_xdp0" or a PCI address such as "0000:01:00.0"
// (rte_eth_dev_get_port_by_name).
func PortByName(name string) (Port, error) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var id C.uint16_t
	if ret := C.rte_eth_dev_get_port_by_name(cs, &id); ret != 0 {
		return 0, errRet(ret, "rte_eth_dev_get_port_by_name(%q): no such port; "+
			"add it to the EAL arguments (--vdev=... or -a <pci>)", name)
	}
	return Port(id), nil
}

// PortCount returns the number of usable ports (rte_eth_dev_count_avail).
func PortCount() int { return int(C.rte_eth_dev_count_avail()) }

// Ports returns every usable port id in order.
func Ports() []Port {
	var ps []Port
	for id := C.rte_eth_find_next(0); id < C.RTE_MAX_ETHPORTS; id = C.rte_eth_find_next(id + 1) {
		ps = append(ps, Port(id))
	}
	return ps
}

// Name returns the port's device name (rte_eth_dev_get_name_by_port).
func (p Port) Name() (string, error) {
	var buf [C.RTE_ETH_NAME_MAX_LEN]C.char
	if err := errRet(C.rte_eth_dev_get_name_by_port(C.uint16_t(p), &buf[0]), "rte_eth_dev_get_name_by_port(port %d)", p); err != nil {
		return "", err
	}
	return C.GoString(&buf[0]), nil
}

// SocketID returns the NUMA socket the port is attached to, or SocketAny.
func (p Port) SocketID() int { return int(C.rte_eth_dev_socket_id(C.uint16_t(p))) }

// PortInfo is what a port says about itself (struct rte_eth_dev_info,
// abridged).
type PortInfo struct {
	Driver               string // PMD name, e.g. "net_af_xdp"
	IfIndex              uint32 // kernel interface index, 0 if none
	MaxRxQueues          uint16
	MaxTxQueues          uint16
	RxOffloadCapa        uint64 // RxOffload* bits
	TxOffloadCapa        uint64 // TxOffload* bits
	RSSOffloads          uint64 // RSS* hash types the port supports
	RetaSize             uint16 // redirection table entries, 0 if none
	HashKeySize          uint8  // RSS key bytes, 0 if RSS is unsupported
	MinMTU, MaxMTU       uint16
	MaxRxPktLen          uint32
	RxDescMin, RxDescMax uint16
	TxDescMin, TxDescMax uint16
}

// Info returns the port's capabilities (rte_eth_dev_info_get).
func (p Port) Info() (PortInfo, error) {
	var di C.struct_fcp_dev_info
	if err := errRet(C.fcp_dev_info(C.uint16_t(p), &di), "rte_eth_dev_info_get(port %d)", p); err != nil {
		return PortInfo{}, err
	}
	return PortInfo{
		Driver:        C.GoString(&di.driver[0]),
		IfIndex:       uint32(di.if_index),
		MaxRxQueues:   uint16(di.max_rxq),
		MaxTxQueues:   uint16(di.max_txq),
		RxOffloadCapa: uint64(di.rx_capa),
		TxOffloadCapa: uint64(di.tx_capa),
		RSSOffloads:   uint64(di.rss_capa),
		RetaSize:      uint16(di.reta_size),
		HashKeySize:   uint8(di.key_size),
		MinMTU:        uint16(di.min_mtu),
		MaxMTU:        uint16(di.max_mtu),
		MaxRxPktLen:   uint32(di.max_rx_pktlen),
		RxDescMin:     uint16(di.rx_desc_min),
		RxDescMax:     uint16(di.rx_desc_max),
		TxDescMin:     uint16(di.tx_desc_min),
		TxDescMax:     uint16(di.tx_desc_max),
	}, nil
}

// RSSConf is a port's RSS setting (struct rte_eth_rss_conf).
type RSSConf struct {
	// Key is the Toeplitz key; nil keeps the PMD's default key. Its length
	// must be PortInfo.HashKeySize.
	Key []byte
	// Types are the RSS* hash types to enable; they must be a subset of
	// PortInfo.RSSOffloads.
	Types uint64
}

// PortConf is the configuration Configure applies (struct rte_eth_conf,
// abridged).
type PortConf struct {
	RxQueues, TxQueues uint16
	// MTU is the L3 MTU; 0 keeps the PMD default (1500).
	MTU uint32
	// RSS enables RSS multi-queue mode (RTE_ETH_MQ_RX_RSS) when not nil.
	RSS                    *RSSConf
	RxOffloads, TxOffloads uint64
}

// rssKeys keeps the C copies of RSS keys handed to rte_eth_dev_configure
// alive: ethdev keeps the pointer and some PMDs read it at start.
var rssKeys struct {
	sync.Mutex
	m map[Port]unsafe.Pointer
}

// Configure configures the port's queues, RSS, MTU and offloads
// (rte_eth_dev_configure). The port must be stopped.
func (p Port) Configure(c PortConf) error {
	var key unsafe.Pointer
	var keyLen C.uint8_t
	var rss C.int
	var hf C.uint64_t
	if c.RSS != nil {
		rss = 1
		hf = C.uint64_t(c.RSS.Types)
		if len(c.RSS.Key) > 255 {
			return fmt.Errorf("dpdk: configure port %d: RSS key of %d bytes is too long", p, len(c.RSS.Key))
		}
		if len(c.RSS.Key) > 0 {
			key = C.CBytes(c.RSS.Key)
			keyLen = C.uint8_t(len(c.RSS.Key))
		}
	}
	ret := C.fcp_configure(C.uint16_t(p), C.uint16_t(c.RxQueues), C.uint16_t(c.TxQueues), rss,
		C.uint32_t(c.MTU), C.uint64_t(c.RxOffloads), C.uint64_t(c.TxOffloads), (*C.uint8_t)(key), keyLen, hf)
	if ret < 0 {
		C.free(key)
		return errRet(ret, "rte_eth_dev_configure(port %d, rxq %d, txq %d, mtu %d, rss %v): "+
			"check the queue counts, RSS types and key size against Port.Info", p, c.RxQueues, c.TxQueues, c.MTU, c.RSS != nil)
	}
	rssKeys.Lock()
	if rssKeys.m == nil {
		rssKeys.m = map[Port]unsafe.Pointer{}
	}
	C.free(rssKeys.m[p])
	rssKeys.m[p] = key
	rssKeys.Unlock()
	return nil
}

// RxQueueSetup sets up receive queue q with nbDesc descriptors filled from
// mp (rte_eth_rx_queue_setup, default rx_conf).
func (p Port) RxQueueSetup(q, nbDesc uint16, socket int, mp *Mempool) error {
	return errRet(C.rte_eth_rx_queue_setup(C.uint16_t(p), C.uint16_t(q), C.uint16_t(nbDesc),
		C.unsigned(socket), nil, mp.c()), "rte_eth_rx_queue_setup(port %d, queue %d, %d descriptors): "+
		"configure the port first and use a descriptor count within Port.Info", p, q, nbDesc)
}

// TxQueueSetup sets up transmit queue q with nbDesc descriptors
// (rte_eth_tx_queue_setup, default tx_conf).
func (p Port) TxQueueSetup(q, nbDesc uint16, socket int) error {
	return errRet(C.rte_eth_tx_queue_setup(C.uint16_t(p), C.uint16_t(q), C.uint16_t(nbDesc),
		C.unsigned(socket), nil), "rte_eth_tx_queue_setup(port %d, queue %d, %d descriptors): "+
		"configure the port first and use a descriptor count within Port.Info", p, q, nbDesc)
}

// Start starts the port (rte_eth_dev_start).
func (p Port) Start() error {
	return errRet(C.rte_eth_dev_start(C.uint16_t(p)), "rte_eth_dev_start(port %d)", p)
}

// Stop stops the port (rte_eth_dev_stop).
func (p Port) Stop() error {
	return errRet(C.rte_eth_dev_stop(C.uint16_t(p)), "rte_eth_dev_stop(port %d)", p)
}

// Close releases the port (rte_eth_dev_close); it must be stopped. Closing
// a vdev port also detaches it: its id may be reused.
func (p Port) Close() error {
	err := errRet(C.rte_eth_dev_close(C.uint16_t(p)), "rte_eth_dev_close(port %d)", p)
	rssKeys.Lock()
	C.free(rssKeys.m[p])
	delete(rssKeys.m, p)
	rssKeys.Unlock()
	return err
}

// SetPromiscuous turns promiscuous mode on or off.
func (p Port) SetPromiscuous(on bool) error {
	if on {
		return errRet(C.rte_eth_promiscuous_enable(C.uint16_t(p)), "rte_eth_promiscuous_enable(port %d)", p)
	}
	return errRet(C.rte_eth_promiscuous_disable(C.uint16_t(p)), "rte_eth_promiscuous_disable(port %d)", p)
}

// Promiscuous reports whether promiscuous mode is on.
func (p Port) Promiscuous() bool { return C.rte_eth_promiscuous_get(C.uint16_t(p)) == 1 }

// Link is a port's link state (struct rte_eth_link).
type Link struct {
	SpeedMbps  uint32
	Up         bool
	FullDuplex bool
	Autoneg    bool
}

// Link returns the link state without waiting (rte_eth_link_get_nowait).
func (p Port) Link() (Link, error) {
	var speed C.uint32_t
	var up, full, auto C.int
	if err := errRet(C.fcp_link(C.uint16_t(p), &speed, &up, &full, &auto), "rte_eth_link_get_nowait(port %d)", p); err != nil {
		return Link{}, err
	}
	return Link{SpeedMbps: uint32(speed), Up: up != 0, FullDuplex: full != 0, Autoneg: auto != 0}, nil
}

// MACAddr returns the port's MAC address (rte_eth_macaddr_get).
func (p Port) MACAddr() ([6]byte, error) {
	var a C.struct_rte_ether_addr
	var mac [6]byte
	if err := errRet(C.rte_eth_macaddr_get(C.uint16_t(p), &a), "rte_eth_macaddr_get(port %d)", p); err != nil {
		return mac, err
	}
	for i := range mac {
		mac[i] = byte(a.addr_bytes[i])
	}
	return mac, nil
}

// SetMTU sets the L3 MTU (rte_eth_dev_set_mtu).
func (p Port) SetMTU(mtu uint16) error {
	return errRet(C.rte_eth_dev_set_mtu(C.uint16_t(p), C.uint16_t(mtu)),
		"rte_eth_dev_set_mtu(port %d, %d): use a value within Port.Info's MinMTU..MaxMTU", p, mtu)
}

// MTU returns the L3 MTU (rte_eth_dev_get_mtu).
func (p Port) MTU() (uint16, error) {
	var m C.uint16_t
	err := errRet(C.rte_eth_dev_get_mtu(C.uint16_t(p), &m), "rte_eth_dev_get_mtu(port %d)", p)
	return uint16(m), err
}

// Stats are a port's basic counters (struct rte_eth_stats, without the
// per-queue arrays).
type Stats struct {
	IPackets, OPackets uint64
	IBytes, OBytes     uint64
	IMissed            uint64 // dropped by the NIC: RX queue full
	IErrors, OErrors   uint64
	RxNoMbuf           uint64 // RX mbuf allocation failures
}

// Stats returns the port's basic counters (rte_eth_stats_get).
func (p Port) Stats() (Stats, error) {
	var s C.struct_rte_eth_stats
	if err := errRet(C.rte_eth_stats_get(C.uint16_t(p), &s), "rte_eth_stats_get(port %d)", p); err != nil {
		return Stats{}, err
	}
	return Stats{
		IPackets: uint64(s.ipackets), OPackets: uint64(s.opackets),
		IBytes: uint64(s.ibytes), OBytes: uint64(s.obytes),
		IMissed: uint64(s.imissed), IErrors: uint64(s.ierrors), OErrors: uint64(s.oerrors),
		RxNoMbuf: uint64(s.rx_nombuf),
	}, nil
}

// ResetStats zeroes the basic counters (rte_eth_stats_reset).
func (p Port) ResetStats() error {
	return errRet(C.rte_eth_stats_reset(C.uint16_t(p)), "rte_eth_stats_reset(port %d)", p)
}

// XstatNames returns the names of the port's extended statistics
// (rte_eth_xstats_get_names); index i names value i of XstatValues.
func (p Port) XstatNames() ([]string, error) {
	n := C.rte_eth_xstats_get_names(C.uint16_t(p), nil, 0)
	if n < 0 {
		return nil, errRet(n, "rte_eth_xstats_get_names(port %d)", p)
	}
	if n == 0 {
		return nil, nil
	}
	names := make([]C.struct_rte_eth_xstat_name, n)
	got := C.rte_eth_xstats_get_names(C.uint16_t(p), &names[0], C.unsigned(n))
	if got < 0 {
		return nil, errRet(got, "rte_eth_xstats_get_names(port %d)", p)
	}
	if got > n {
		return nil, fmt.Errorf("dpdk: rte_eth_xstats_get_names(port %d): count grew from %d to %d", p, n, got)
	}
	out := make([]string, got)
	for i := range out {
		out[i] = C.GoString(&names[i].name[0])
	}
	return out, nil
}

// XstatValues fills dst with the port's extended statistics in XstatNames
// order (rte_eth_xstats_get_by_id with no ids) and returns how many it
// wrote. If dst is too short it returns the count needed and an error.
func (p Port) XstatValues(dst []uint64) (int, error) {
	var ptr *C.uint64_t
	if len(dst) > 0 {
		ptr = (*C.uint64_t)(unsafe.Pointer(&dst[0]))
	}
	n := C.rte_eth_xstats_get_by_id(C.uint16_t(p), nil, ptr, C.unsigned(len(dst)))
	if n < 0 {
		return 0, errRet(n, "rte_eth_xstats_get_by_id(port %d)", p)
	}
	if int(n) > len(dst) {
		return int(n), fmt.Errorf("dpdk: port %d has %d xstats, buffer holds %d: grow it", p, n, len(dst))
	}
	return int(n), nil
}

// Xstat is one named extended statistic.
type Xstat struct {
	Name  string
	Value uint64
}

// Xstats returns every extended statistic with its name. It allocates; for
// periodic scraping call XstatNames once and XstatValues each time.
func (p Port) Xstats() ([]Xstat, error) {
	names, err := p.XstatNames()
	if err != nil {
		return nil, err
	}
	vals := make([]uint64, len(names))
	n, err := p.XstatValues(vals)
	if err != nil {
		return nil, err
	}
	out := make([]Xstat, n)
	for i := range out {
		out[i] = Xstat{Name: names[i], Value: vals[i]}
	}
	return out, nil
}

// RSSHashUpdate changes the RSS key and hash types of a configured port
// (rte_eth_dev_rss_hash_update). A nil Key keeps the current key.
func (p Port) RSSHashUpdate(c RSSConf) error {
	var key unsafe.Pointer
	if len(c.Key) > 255 {
		return fmt.Errorf("dpdk: RSS update port %d: RSS key of %d bytes is too long", p, len(c.Key))
	}
	if len(c.Key) > 0 {
		key = C.CBytes(c.Key)
		defer C.free(key)
	}
	return errRet(C.fcp_rss_update(C.uint16_t(p), (*C.uint8_t)(key), C.uint8_t(len(c.Key)), C.uint64_t(c.Types)),
		"rte_eth_dev_rss_hash_update(port %d, %d-byte key, types %#x): "+
			"use PortInfo.HashKeySize bytes and types within PortInfo.RSSOffloads", p, len(c.Key), c.Types)
}

// RSSHashConf returns the port's RSS key and hash types
// (rte_eth_dev_rss_hash_conf_get).
func (p Port) RSSHashConf() (RSSConf, error) {
	info, err := p.Info()
	if err != nil {
		return RSSConf{}, err
	}
	size := int(info.HashKeySize)
	if size == 0 {
		size = 40
	}
	key := make([]byte, size)
	var outLen C.uint8_t
	var hf C.uint64_t
	ret := C.fcp_rss_get(C.uint16_t(p), (*C.uint8_t)(unsafe.Pointer(&key[0])), C.uint8_t(size), &outLen, &hf)
	if ret < 0 {
		return RSSConf{}, errRet(ret, "rte_eth_dev_rss_hash_conf_get(port %d)", p)
	}
	if int(outLen) > 0 && int(outLen) < size {
		key = key[:outLen]
	}
	return RSSConf{Key: key, Types: uint64(hf)}, nil
}

// RxBurst receives up to len(pkts) packets from queue q into pkts
// (rte_eth_rx_burst, one cgo call) and returns how many it stored. The
// caller owns the returned mbufs. pkts is best allocated once, before the
// poll loop, with NewMbufArray; it does not escape.
func (p Port) RxBurst(q uint16, pkts []*Mbuf) int {
	if len(pkts) == 0 {
		return 0
	}
	return int(C.fcp_rx_burst(C.uint16_t(p), C.uint16_t(q), (**C.struct_rte_mbuf)(unsafe.Pointer(&pkts[0])), C.uint16_t(len(pkts))))
}

// TxBurst queues pkts for transmission on queue q (rte_eth_tx_burst, one
// cgo call) and returns how many the PMD took. Ownership of pkts[:n] passes
// to the PMD; pkts[n:] still belong to the caller, who retries or frees
// them.
func (p Port) TxBurst(q uint16, pkts []*Mbuf) int {
	if len(pkts) == 0 {
		return 0
	}
	return int(C.fcp_tx_burst(C.uint16_t(p), C.uint16_t(q), (**C.struct_rte_mbuf)(unsafe.Pointer(&pkts[0])), C.uint16_t(len(pkts))))
}
