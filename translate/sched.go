package translate

import "fmt"

// SubflowInfo is what a Scheduler sees of one subflow of a connection.
type SubflowInfo struct {
	// Live: established, not closing, not declared dead.
	Live bool
	// Backup: the client marked it backup (MP_JOIN B flag or MP_PRIO,
	// RFC 8684 sections 3.2 and 3.3.8).
	Backup bool
	// SRTT is the smoothed RTT in nanoseconds measured from P's send
	// times and the client's subflow acks; 0 while unknown.
	SRTT int64
	// InFlight is the number of bytes P sent on the subflow that the
	// client has not acknowledged at the subflow level.
	InFlight uint32
	// Window is the estimated congestion window in bytes: it starts at
	// ten segments, grows with acknowledged bytes and halves on a
	// retransmission.
	Window uint32
}

// Scheduler picks the subflow that carries the next new S->C segment
// (DESIGN 3.5). subs has one entry per subflow slot, last is the index the
// previous pick returned (or -1). Pick returns an index of a Live entry,
// or -1 when none is live. It must not allocate.
type Scheduler interface {
	Pick(subs []SubflowInfo, last int) int
}

// MinRTT is the default scheduler: the lowest smoothed RTT among live,
// non-backup subflows whose bytes in flight are below their estimated
// window; if every such subflow is full, the lowest RTT among them anyway
// (P holds no data, so it cannot wait); backups only when no non-backup
// subflow is live.
type MinRTT struct{}

// Pick implements Scheduler.
func (MinRTT) Pick(subs []SubflowInfo, last int) int {
	for _, backup := range [2]bool{false, true} {
		best, bestFull := -1, -1
		for i := range subs {
			s := &subs[i]
			if !s.Live || s.Backup != backup {
				continue
			}
			if s.InFlight < s.Window {
				if best < 0 || s.SRTT < subs[best].SRTT {
					best = i
				}
			} else if bestFull < 0 || s.SRTT < subs[bestFull].SRTT {
				bestFull = i
			}
		}
		if best >= 0 {
			return best
		}
		if bestFull >= 0 {
			return bestFull
		}
	}
	return -1
}

// RoundRobin sends each new segment on the next live non-backup subflow
// after the previous pick that has window room, else on the next live
// one; backups only when no non-backup subflow is live.
type RoundRobin struct{}

// Pick implements Scheduler.
func (RoundRobin) Pick(subs []SubflowInfo, last int) int {
	n := len(subs)
	if n == 0 {
		return -1
	}
	for _, backup := range [2]bool{false, true} {
		any := -1
		for k := 1; k <= n; k++ {
			i := (last + k) % n
			if i < 0 {
				i += n
			}
			s := &subs[i]
			if !s.Live || s.Backup != backup {
				continue
			}
			if s.InFlight < s.Window {
				return i
			}
			if any < 0 {
				any = i
			}
		}
		if any >= 0 {
			return any
		}
	}
	return -1
}

// newScheduler returns the scheduler named by Config.Scheduler.
func newScheduler(name string) (Scheduler, error) {
	switch name {
	case "", "minrtt":
		return MinRTT{}, nil
	case "roundrobin":
		return RoundRobin{}, nil
	}
	return nil, fmt.Errorf("translate: scheduler %q: want minrtt or roundrobin", name)
}
