package model

import (
	"bytes"
	"encoding/binary"

	"github.com/flexcp/flexcp/translate"
	"github.com/flexcp/flexcp/translate/header"
	"github.com/flexcp/flexcp/translate/option"
)

// Offsets in a packet the model builds: IPv4 without options, then TCP.
const (
	ipLen   = 20
	tcpBase = 20
	optOff  = ipLen + tcpBase
)

// newPkt takes a buffer from the pool; the caller writes options at
// Buf[Off+optOff:] and calls seal.
func (m *Model) newPkt(ci int) (translate.Packet, bool) {
	p, ok := m.pool.Alloc()
	if !ok {
		m.fail(ErrNoBuffer, ci, uint64(m.pool.InUse()), 0)
	}
	return p, ok
}

// seal writes the IPv4 and TCP headers in front of the nopt option bytes
// already written, pads the options with NOPs, copies n payload bytes of
// the pattern at phase ph, fills in both checksums and queues the packet
// toward the engine side named by side.
func (m *Model) seal(p *translate.Packet, side translate.Side, src, dst [4]byte, sport, dport uint16,
	seq, ack uint32, flags uint8, nopt int, ph uint64, n int) {
	b := p.Buf[p.Off:]
	for nopt&3 != 0 {
		b[optOff+nopt] = option.KindNOP
		nopt++
	}
	hl := optOff + nopt
	total := hl + n
	ip := header.IPv4(b[:total])
	ip[0], ip[1] = 0x45, 0
	ip.SetTotalLength(uint16(total))
	ip.SetID(0)
	ip.SetFlagsFragmentOffset(0x4000) // DF
	ip.SetTTL(64)
	ip.SetProtocol(6)
	ip.SetSourceAddress(src)
	ip.SetDestinationAddress(dst)
	ip.SetChecksum(0)
	ip.SetChecksum(ip.CalculateChecksum())
	t := header.TCP(b[ipLen:total])
	t.SetSourcePort(sport)
	t.SetDestinationPort(dport)
	t.SetSeq(header.Seq32(seq))
	t.SetAck(header.Seq32(ack))
	binary.BigEndian.PutUint16(t[12:], uint16(tcpBase+nopt)<<10|uint16(flags))
	t.SetWindow(0xffff)
	t.SetChecksum(0)
	t.SetUrgentPointer(0)
	var ps uint16
	if n > 0 {
		ph &= 255
		copy(b[hl:total], m.tmpl[ph:int(ph)+n])
		if k := m.sumIdx[n]; k >= 0 {
			ps = m.sums[k][ph]
		} else {
			ps = header.OnesSum(b[hl:total], 0)
		}
	}
	s := header.OnesSum(t[:tcpBase+nopt], header.Combine(ip.PseudoHeaderSum(), ps))
	t.SetChecksum(^s)
	p.Len = total
	p.Side = side
	p.Port = 0
	q := &m.access
	if side == translate.Core {
		q = &m.core
	}
	if !q.push(p) {
		m.fail(ErrNoBuffer, -1, 0, 1)
		m.pool.Free(p)
	}
}

// dss is what the model reads of a DSS option, decoded by its own small
// walker (independent of translate/option).
type dss struct {
	mptcp   bool // any kind-30 option
	present bool
	flags   uint8
	dataAck uint64
	dsn     uint64
	ssn     uint32
	dataLen uint16
}

// scanOpts walks an option block; it reports false when it is malformed.
func scanOpts(o []byte, d *dss) bool {
	d.mptcp, d.present = false, false
	for i := 0; i < len(o); {
		k := o[i]
		if k == option.KindEOL {
			return true
		}
		if k == option.KindNOP {
			i++
			continue
		}
		if i+1 >= len(o) {
			return false
		}
		l := int(o[i+1])
		if l < 2 || i+l > len(o) {
			return false
		}
		if k == option.KindMPTCP {
			d.mptcp = true
			if l >= 4 && o[i+2]>>4 == option.SubtypeDSS {
				f := o[i+3]
				if option.DSSLen(f&option.DSSFlagMask, false) != l && option.DSSLen(f&option.DSSFlagMask, true) != l {
					return false
				}
				d.present, d.flags = true, f
				p := i + 4
				if f&option.DSSHasAck != 0 {
					if f&option.DSSAck64 != 0 {
						d.dataAck = binary.BigEndian.Uint64(o[p:])
						p += 8
					} else {
						d.dataAck = uint64(binary.BigEndian.Uint32(o[p:]))
						p += 4
					}
				}
				if f&option.DSSHasMap != 0 {
					if f&option.DSSDSN64 != 0 {
						d.dsn = binary.BigEndian.Uint64(o[p:])
						p += 8
					} else {
						d.dsn = uint64(binary.BigEndian.Uint32(o[p:]))
						p += 4
					}
					d.ssn = binary.BigEndian.Uint32(o[p:])
					d.dataLen = binary.BigEndian.Uint16(o[p+4:])
				}
			}
		}
		i += l
	}
	return true
}

// view validates a packet that reached one end: IPv4 header and checksum,
// TCP header. The TCP checksum is the caller's (checkSum or full).
func (m *Model) view(p *translate.Packet) (header.IPv4, header.TCP, bool) {
	if p.Off < 0 || p.Len < optOff || p.Off+p.Len > len(p.Buf) {
		m.fail(ErrParse, -1, uint64(p.Off), uint64(p.Len))
		return nil, nil, false
	}
	ip := header.IPv4(p.Buf[p.Off : p.Off+p.Len])
	if !ip.IsValid() || ip.Protocol() != 6 || int(ip.TotalLength()) != p.Len {
		m.fail(ErrParse, -1, uint64(p.Len), 1)
		return nil, nil, false
	}
	if !ip.IsChecksumValid() {
		m.fail(ErrIPChecksum, -1, uint64(ip.Checksum()), 0)
		return nil, nil, false
	}
	t := header.TCP(ip.Payload())
	if !t.IsValid() {
		m.fail(ErrParse, -1, uint64(p.Len), 2)
		return nil, nil, false
	}
	return ip, t, true
}

// checkPayload verifies a segment's payload against the pattern at data
// offset off of the stream with seed seed, and its TCP checksum: by the
// precomputed sum of the pattern when the size is in the schedule (the
// checksum is valid iff the payload sum it implies is the pattern's),
// else by summing.
func (m *Model) checkPayload(ci int, ip header.IPv4, t header.TCP, off, seed uint64) bool {
	pay := t.Payload()
	n := len(pay)
	ph := (off + seed) & 255
	if n > m.maxPay || !bytes.Equal(pay, m.tmpl[ph:int(ph)+n]) {
		m.fail(ErrPayload, ci, off, uint64(n))
		return false
	}
	if k := m.sumIdx[n]; k >= 0 {
		if !sumEq(t.PayloadSum(ip.PseudoHeaderSum()), m.sums[k][ph]) {
			m.fail(ErrTCPChecksum, ci, off, uint64(n))
			return false
		}
		return true
	}
	if !t.IsChecksumValid(ip.PseudoHeaderSum()) {
		m.fail(ErrTCPChecksum, ci, off, uint64(n))
		return false
	}
	return true
}

// checkHeaderSum verifies the TCP checksum of a segment without payload.
func (m *Model) checkHeaderSum(ci int, ip header.IPv4, t header.TCP) bool {
	if !t.IsChecksumValid(ip.PseudoHeaderSum()) {
		m.fail(ErrTCPChecksum, ci, 0, 0)
		return false
	}
	return true
}

// sumEq compares one's-complement sums, where 0 and 0xffff are both zero.
func sumEq(a, b uint16) bool {
	if a == 0xffff {
		a = 0
	}
	if b == 0xffff {
		b = 0
	}
	return a == b
}
