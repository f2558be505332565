package dpdk

/*
#include <stddef.h>
#include <rte_mbuf.h>

enum {
	fcp_off_buf_addr = offsetof(struct rte_mbuf, buf_addr),
	fcp_off_data_off = offsetof(struct rte_mbuf, data_off),
	fcp_off_refcnt = offsetof(struct rte_mbuf, refcnt),
	fcp_off_nb_segs = offsetof(struct rte_mbuf, nb_segs),
	fcp_off_port = offsetof(struct rte_mbuf, port),
	fcp_off_ol_flags = offsetof(struct rte_mbuf, ol_flags),
	fcp_off_packet_type = offsetof(struct rte_mbuf, packet_type),
	fcp_off_pkt_len = offsetof(struct rte_mbuf, pkt_len),
	fcp_off_data_len = offsetof(struct rte_mbuf, data_len),
	fcp_off_vlan_tci = offsetof(struct rte_mbuf, vlan_tci),
	fcp_off_hash_rss = offsetof(struct rte_mbuf, hash.rss),
	fcp_off_vlan_tci_outer = offsetof(struct rte_mbuf, vlan_tci_outer),
	fcp_off_buf_len = offsetof(struct rte_mbuf, buf_len),
	fcp_off_pool = offsetof(struct rte_mbuf, pool),
	fcp_off_next = offsetof(struct rte_mbuf, next),
	fcp_off_tx_offload = offsetof(struct rte_mbuf, tx_offload),
	fcp_sizeof_mbuf = sizeof(struct rte_mbuf),
};
*/
import "C"

import "unsafe"

// Byte offsets of struct rte_mbuf fields in DPDK 22.11 on x86-64 (built with
// RTE_IOVA_AS_PA, as Debian's package is). TestMbufOffsets checks each one
// against C's offsetof.
const (
	mbufOffBufAddr      = 0
	mbufOffDataOff      = 16
	mbufOffRefcnt       = 18
	mbufOffNbSegs       = 20
	mbufOffPort         = 22
	mbufOffOlFlags      = 24
	mbufOffPacketType   = 32
	mbufOffPktLen       = 36
	mbufOffDataLen      = 40
	mbufOffVlanTCI      = 42
	mbufOffHashRSS      = 44
	mbufOffVlanTCIOuter = 52
	mbufOffBufLen       = 54
	mbufOffPool         = 56
	mbufOffNext         = 64
	mbufOffTxOffload    = 72
	mbufSize            = 128
)

// cMbufOffsets returns the offsets as C computes them, for the test.
func cMbufOffsets() map[string][2]uintptr {
	return map[string][2]uintptr{
		"buf_addr":       {mbufOffBufAddr, C.fcp_off_buf_addr},
		"data_off":       {mbufOffDataOff, C.fcp_off_data_off},
		"refcnt":         {mbufOffRefcnt, C.fcp_off_refcnt},
		"nb_segs":        {mbufOffNbSegs, C.fcp_off_nb_segs},
		"port":           {mbufOffPort, C.fcp_off_port},
		"ol_flags":       {mbufOffOlFlags, C.fcp_off_ol_flags},
		"packet_type":    {mbufOffPacketType, C.fcp_off_packet_type},
		"pkt_len":        {mbufOffPktLen, C.fcp_off_pkt_len},
		"data_len":       {mbufOffDataLen, C.fcp_off_data_len},
		"vlan_tci":       {mbufOffVlanTCI, C.fcp_off_vlan_tci},
		"hash.rss":       {mbufOffHashRSS, C.fcp_off_hash_rss},
		"vlan_tci_outer": {mbufOffVlanTCIOuter, C.fcp_off_vlan_tci_outer},
		"buf_len":        {mbufOffBufLen, C.fcp_off_buf_len},
		"pool":           {mbufOffPool, C.fcp_off_pool},
		"next":           {mbufOffNext, C.fcp_off_next},
		"tx_offload":     {mbufOffTxOffload, C.fcp_off_tx_offload},
		"sizeof":         {mbufSize, C.fcp_sizeof_mbuf},
	}
}

// Mbuf flag bits and constants used by the accessors.
const (
	// OlFlagRxRSSHash (RTE_MBUF_F_RX_RSS_HASH) is set in OlFlags when the
	// PMD stored the RSS hash in the mbuf.
	OlFlagRxRSSHash = uint64(C.RTE_MBUF_F_RX_RSS_HASH)
	// OlFlagRxFDIR (RTE_MBUF_F_RX_FDIR) is set when a flow rule matched.
	OlFlagRxFDIR = uint64(C.RTE_MBUF_F_RX_FDIR)
	// OlFlagRxFDIRID (RTE_MBUF_F_RX_FDIR_ID) is set when a MARK action
	// stored its id in the hash field (read it with FDIRID).
	OlFlagRxFDIRID = uint64(C.RTE_MBUF_F_RX_FDIR_ID)

	olFlagExternal = uint64(C.RTE_MBUF_F_EXTERNAL)
	// PortInvalid is the port value of an mbuf that did not come from a
	// port (RTE_MBUF_PORT_INVALID).
	PortInvalid = uint16(C.RTE_MBUF_PORT_INVALID)
)

// Mbuf is a DPDK packet buffer (struct rte_mbuf) in C memory. Its fields are
// read and written directly through offsets, with no cgo call, so every
// accessor is cheap enough for the per-packet path.
//
// Only single-segment mbufs are supported: Data covers the first segment
// and the setters keep pkt_len equal to data_len. Ports must not be
// configured with scatter RX or multi-segment TX offloads.
type Mbuf C.struct_rte_mbuf

func (m *Mbuf) at(off uintptr) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(m), off) }

func (m *Mbuf) u16(off uintptr) *uint16 { return (*uint16)(m.at(off)) }
func (m *Mbuf) u32(off uintptr) *uint32 { return (*uint32)(m.at(off)) }
func (m *Mbuf) u64(off uintptr) *uint64 { return (*uint64)(m.at(off)) }

// BufAddr returns the start of the mbuf's buffer (buf_addr).
func (m *Mbuf) BufAddr() unsafe.Pointer { return *(*unsafe.Pointer)(m.at(mbufOffBufAddr)) }

// BufLen returns the buffer size, headroom included (buf_len).
func (m *Mbuf) BufLen() uint16 { return *m.u16(mbufOffBufLen) }

// Buf returns the whole buffer, headroom and tailroom included.
func (m *Mbuf) Buf() []byte { return unsafe.Slice((*byte)(m.BufAddr()), m.BufLen()) }

// DataOff returns the offset of the packet data in the buffer (data_off),
// which is also the headroom.
func (m *Mbuf) DataOff() uint16 { return *m.u16(mbufOffDataOff) }

// Headroom returns the bytes free before the data (data_off).
func (m *Mbuf) Headroom() uint16 { return *m.u16(mbufOffDataOff) }

// Tailroom returns the bytes free after the data.
func (m *Mbuf) Tailroom() uint16 {
	return *m.u16(mbufOffBufLen) - *m.u16(mbufOffDataOff) - *m.u16(mbufOffDataLen)
}

// DataLen returns the length of the data (data_len).
func (m *Mbuf) DataLen() uint16 { return *m.u16(mbufOffDataLen) }

// PktLen returns the packet length over all segments (pkt_len); for the
// single-segment mbufs this package supports it equals DataLen.
func (m *Mbuf) PktLen() uint32 { return *m.u32(mbufOffPktLen) }

// NbSegs returns the number of segments (nb_segs).
func (m *Mbuf) NbSegs() uint16 { return *m.u16(mbufOffNbSegs) }

// RefCnt returns the reference count (refcnt).
func (m *Mbuf) RefCnt() uint16 { return *m.u16(mbufOffRefcnt) }

// Port returns the input port id (port), or PortInvalid.
func (m *Mbuf) Port() uint16 { return *m.u16(mbufOffPort) }

// SetPort sets the port field.
func (m *Mbuf) SetPort(p uint16) { *m.u16(mbufOffPort) = p }

// OlFlags returns the offload flags (ol_flags).
func (m *Mbuf) OlFlags() uint64 { return *m.u64(mbufOffOlFlags) }

// SetOlFlags sets the offload flags.
func (m *Mbuf) SetOlFlags(f uint64) { *m.u64(mbufOffOlFlags) = f }

// PacketType returns the packet type the PMD recognised (packet_type,
// RTE_PTYPE_* bits), 0 if unknown.
func (m *Mbuf) PacketType() uint32 { return *m.u32(mbufOffPacketType) }

// RSSHash returns hash.rss. It is meaningful only when OlFlags has
// OlFlagRxRSSHash.
func (m *Mbuf) RSSHash() uint32 { return *m.u32(mbufOffHashRSS) }

// FDIRID returns hash.fdir.hi, the id of a MARK action. It is meaningful
// only when OlFlags has OlFlagRxFDIRID.
func (m *Mbuf) FDIRID() uint32 { return *m.u32(mbufOffHashRSS + 4) }

// VlanTCI returns the stripped VLAN tag (vlan_tci).
func (m *Mbuf) VlanTCI() uint16 { return *m.u16(mbufOffVlanTCI) }

// Pool returns the mempool the mbuf belongs to.
func (m *Mbuf) Pool() *Mempool { return *(**Mempool)(m.at(mbufOffPool)) }

// Data returns the packet data: data_len bytes at buf_addr+data_off. The
// slice aliases the mbuf and is valid until the mbuf is freed or sent.
func (m *Mbuf) Data() []byte {
	return unsafe.Slice((*byte)(unsafe.Add(m.BufAddr(), *m.u16(mbufOffDataOff))), *m.u16(mbufOffDataLen))
}

// SetDataLen sets data_len and pkt_len to n. It reports false, changing
// nothing, if n bytes do not fit after data_off.
func (m *Mbuf) SetDataLen(n uint16) bool {
	if uint32(*m.u16(mbufOffDataOff))+uint32(n) > uint32(*m.u16(mbufOffBufLen)) {
		return false
	}
	*m.u16(mbufOffDataLen) = n
	*m.u32(mbufOffPktLen) = uint32(n)
	return true
}

// Prepend grows the data by n bytes at the front (rte_pktmbuf_prepend) and
// returns the whole new data. It returns nil, changing nothing, if the
// headroom is smaller than n.
func (m *Mbuf) Prepend(n uint16) []byte {
	off := *m.u16(mbufOffDataOff)
	if n > off {
		return nil
	}
	*m.u16(mbufOffDataOff) = off - n
	*m.u16(mbufOffDataLen) += n
	*m.u32(mbufOffPktLen) += uint32(n)
	return m.Data()
}

// Adj removes n bytes from the front of the data (rte_pktmbuf_adj) and
// returns the remaining data. It returns nil, changing nothing, if the data
// is shorter than n.
func (m *Mbuf) Adj(n uint16) []byte {
	l := *m.u16(mbufOffDataLen)
	if n > l {
		return nil
	}
	*m.u16(mbufOffDataOff) += n
	*m.u16(mbufOffDataLen) = l - n
	*m.u32(mbufOffPktLen) -= uint32(n)
	return m.Data()
}

// Append grows the data by n bytes at the end (rte_pktmbuf_append) and
// returns the whole new data. It returns nil, changing nothing, if the
// tailroom is smaller than n.
func (m *Mbuf) Append(n uint16) []byte {
	if n > m.Tailroom() {
		return nil
	}
	*m.u16(mbufOffDataLen) += n
	*m.u32(mbufOffPktLen) += uint32(n)
	return m.Data()
}

// Trim removes n bytes from the end of the data (rte_pktmbuf_trim). It
// reports false, changing nothing, if the data is shorter than n.
func (m *Mbuf) Trim(n uint16) bool {
	l := *m.u16(mbufOffDataLen)
	if n > l {
		return false
	}
	*m.u16(mbufOffDataLen) = l - n
	*m.u32(mbufOffPktLen) -= uint32(n)
	return true
}

// Reset returns a single-segment mbuf to the state of a fresh allocation
// (as rte_pktmbuf_reset): empty data, default headroom, no offload flags,
// no port. Use it to reuse a received mbuf for a new packet.
func (m *Mbuf) Reset() {
	*(*unsafe.Pointer)(m.at(mbufOffNext)) = nil
	*m.u32(mbufOffPktLen) = 0
	*m.u64(mbufOffTxOffload) = 0
	*m.u16(mbufOffVlanTCI) = 0
	*m.u16(mbufOffVlanTCIOuter) = 0
	*m.u16(mbufOffNbSegs) = 1
	*m.u16(mbufOffPort) = PortInvalid
	*m.u64(mbufOffOlFlags) &= olFlagExternal
	*m.u32(mbufOffPacketType) = 0
	h := uint16(MbufHeadroom)
	if bl := *m.u16(mbufOffBufLen); bl < h {
		h = bl
	}
	*m.u16(mbufOffDataOff) = h
	*m.u16(mbufOffDataLen) = 0
}
