package translate

import (
	"fmt"
	"net/netip"
)

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
	// MinRTT is the lowest RTT sample (ns) of the last ten seconds or so
	// (a windowed minimum, as BBR keeps): the path's delay without the
	// queue P's own data builds; 0 while unknown.
	MinRTT int64
	// InFlight is the number of bytes P sent on the subflow that the
	// client has not acknowledged at the subflow level.
	InFlight uint32
	// Window is the estimated congestion window in bytes: it starts at
	// ten segments, grows with acknowledged bytes and halves on a
	// retransmission; once Rate and MinRTT are measured it is capped at
	// twice their product (never below ten segments).
	Window uint32
	// Port is the access port the subflow runs over.
	Port uint8
	// Rate is the smoothed delivery rate in bytes per second: bytes the
	// client acknowledged on the subflow per unit of busy time; 0 while
	// unknown.
	Rate uint64
	// Stale: live, but data has been outstanding without subflow-ack
	// progress for Config.StaleAfter. The engine offers stale subflows
	// to the scheduler only when no other subflow is live.
	Stale bool
}

// Scheduler picks the subflow that carries the next new S->C segment
// (DESIGN 3.5). subs has one entry per subflow slot, last is the index the
// previous pick returned (or -1), and room is how many more bytes S can
// send while a byte sent now waits for its delivery (Engine.windowRoom:
// the client's receive window beyond the highest byte sent, capped at
// S's bytes in flight, the part of its congestion window P can see; 0
// while unknown); roomOrSoonest spends it. Pick returns an index of a
// Live entry, or -1 when none is live. It must not allocate.
type Scheduler interface {
	Pick(subs []SubflowInfo, last int, room uint64) int
}

// MinRTT is the default scheduler: the lowest smoothed RTT among live,
// non-backup subflows whose bytes in flight are below their estimated
// window; if every such subflow is full, the one that would deliver a
// byte soonest (delivery; P holds no data, so it cannot wait); backups
// only when no non-backup subflow is live.
//
// A full subflow still wins over the one with room when it would deliver
// sooner even behind its bytes in flight and the client's receive window
// cannot hold what it delivers meanwhile (roomOrSoonest).
type MinRTT struct{}

// Pick implements Scheduler.
func (MinRTT) Pick(subs []SubflowInfo, last int, room uint64) int {
	for _, backup := range [2]bool{false, true} {
		best, bestFull := -1, -1
		var fullDelay int64
		for i := range subs {
			s := &subs[i]
			if !s.Live || s.Backup != backup {
				continue
			}
			if s.InFlight < s.Window {
				if best < 0 || s.SRTT < subs[best].SRTT {
					best = i
				}
			} else if d := s.delivery(); bestFull < 0 || d < fullDelay {
				bestFull, fullDelay = i, d
			}
		}
		if j := roomOrSoonest(subs, best, bestFull, fullDelay, room); j >= 0 {
			return j
		}
	}
	return -1
}

// measured reports whether s's delivery estimate includes its queue
// (a delivery rate and a minimum RTT are known).
func (s *SubflowInfo) measured() bool { return s.Rate > 0 && s.MinRTT > 0 }

// delivery estimates how long a byte sent on s now would take to reach
// the client, in ns: its minimum RTT (the path without queue) plus the
// time its bytes in flight take to drain at its delivery rate, and never
// less than the smoothed RTT: the minimum follows a rise of the path's
// base delay only after its ten-second window, the smoothed RTT within a
// few round trips. While the rate or the minimum is unmeasured, the
// smoothed RTT alone (0 when that is unknown too, so an unmeasured
// subflow comes first and gets measured).
//
// It is how every rate-aware scheduler chooses when all subflows are
// full (P holds no data, so it must pick one): the soonest delivery
// spreads the excess in proportion to the paths' rates and keeps their
// queueing delays equal, so the client's reordering wait stays short.
// Comparing bytes in flight against windows instead gives the slow path
// an even share whenever the windows are equal (both at the initial-
// window floor, as on low-delay paths), and its queue then holds the
// whole connection back.
func (s *SubflowInfo) delivery() int64 {
	if !s.measured() {
		return s.SRTT
	}
	return max(s.MinRTT+int64(uint64(s.InFlight)*1e9/s.Rate), s.SRTT)
}

// roomOrSoonest ends MinRTT's and Weighted's pick: r is their choice
// among subflows with window room, f the full one that would deliver
// soonest (at fullDelay), room the Scheduler's room. It returns r, unless
// f's delivery is measured, still sooner than r's, and the bytes f
// delivers while the client waits for r's byte (f's rate x the
// difference) exceed room: then f. It returns f when nothing has room,
// -1 when there is neither.
//
// This is BLEST's test (Ferlin et al., IFIP Networking 2016) with S as
// the sender: a byte on a slower path holds the client's DATA_ACK, and so
// S's ack clock, until it arrives; the faster path keeps delivering
// behind it only as far as S's window and the client's reach, and then
// idles. A path 80 ms longer than a fast one fails it
// (TestPathMinRTTDelayed: the few segments it got whenever the short
// path's small window looked full held the whole connection), and so,
// with S's window as small as BBR keeps it, does a cellular path 30 ms
// longer than a 200 Mbit/s line (TestPathSchedulersHybrid; results/
// path.md). Paths of similar delay are unaffected: the one with room
// delivers sooner.
func roomOrSoonest(subs []SubflowInfo, r, f int, fullDelay int64, room uint64) int {
	if r < 0 {
		return f
	}
	if f < 0 || !subs[f].measured() {
		return r
	}
	wait := subs[r].delivery() - fullDelay
	if wait <= 0 || float64(subs[f].Rate)*float64(wait)/1e9 <= float64(room) {
		return r
	}
	return f
}

// RoundRobin sends each new segment on the next live non-backup subflow
// after the previous pick that has room in its round-robin window, else
// on the live one that would deliver soonest (delivery); backups only
// when no non-backup subflow is live.
//
// The round-robin window is the subflow's window capped at one measured
// bandwidth-delay product (rrWindow: rate x minimum RTT), not the two the
// other schedulers allow: with two, a slow path never filled while S's
// data was short, so round robin alternated strictly, split the data
// evenly, and the client's reordering wait tied the whole connection to
// the slow path (on 200 and 50 Mbit/s paths: 93 Mbit/s, half the fast
// path alone). With the smoothed RTT in that product, it still did (97-114
// Mbit/s): the slow path's queue raised its RTT and so its window.
type RoundRobin struct{}

// Pick implements Scheduler.
func (RoundRobin) Pick(subs []SubflowInfo, last int, room uint64) int {
	n := len(subs)
	if n == 0 {
		return -1
	}
	for _, backup := range [2]bool{false, true} {
		soonest := -1
		var soonestDelay int64
		for k := 1; k <= n; k++ {
			i := (last + k) % n
			if i < 0 {
				i += n
			}
			s := &subs[i]
			if !s.Live || s.Backup != backup {
				continue
			}
			if uint64(s.InFlight) < rrWindow(s) {
				return i
			}
			if d := s.delivery(); soonest < 0 || d < soonestDelay {
				soonest, soonestDelay = i, d
			}
		}
		if soonest >= 0 {
			return soonest
		}
	}
	return -1
}

// rrWindow is s's window for RoundRobin: Window capped, once a delivery
// rate and a minimum RTT are measured, at one bandwidth-delay product
// (never below the initial window).
func rrWindow(s *SubflowInfo) uint64 {
	w := uint64(s.Window)
	if s.Rate == 0 || s.MinRTT <= 0 {
		return max(w, 1)
	}
	bdp := max(s.Rate*uint64(s.MinRTT)/1e9, initialWindow)
	return max(min(w, bdp), 1)
}

// Weighted spreads new data in proportion to the subflows' measured
// delivery rates: it picks the live subflow with window room that would
// deliver the next byte soonest, its bytes in flight drained at its rate
// ((InFlight+1)/Rate) plus its minimum RTT, so over time subflows of equal
// delay carry shares of the data proportional to their rates, and a path
// with a longer delay gets data only once the others are that much
// behind (without the delay term, a path 80 ms longer but as fast got a
// quarter of the data and the client's reordering wait cut the
// connection to a sixth of minrtt's rate: TestPathMinRTTDelayed).
// A subflow whose rate is not known yet is picked first (to measure it).
// When every subflow is full, the one that would deliver soonest
// (delivery), and a full one also wins when it would still deliver
// before the pick with room (as in MinRTT); backups only when no
// non-backup subflow is live.
type Weighted struct{}

// Pick implements Scheduler.
func (Weighted) Pick(subs []SubflowInfo, last int, room uint64) int {
	for _, backup := range [2]bool{false, true} {
		best, bestFull := -1, -1
		var bestCost float64
		var fullDelay int64
		for i := range subs {
			s := &subs[i]
			if !s.Live || s.Backup != backup {
				continue
			}
			if s.InFlight < s.Window {
				cost := 0.0
				if s.Rate > 0 {
					cost = float64(s.InFlight+1)/float64(s.Rate) + float64(s.MinRTT)/1e9
				}
				if best < 0 || cost < bestCost {
					best, bestCost = i, cost
				}
				continue
			}
			if d := s.delivery(); bestFull < 0 || d < fullDelay {
				bestFull, fullDelay = i, d
			}
		}
		if j := roomOrSoonest(subs, best, bestFull, fullDelay, room); j >= 0 {
			return j
		}
	}
	return -1
}

// ActiveStandby sends all new data on one active subflow: the first live
// non-backup subflow in subflow order (subflow 0 while it lives). The
// others, and subflows marked backup (by the client's MP_JOIN B flag or
// MP_PRIO, or by Config.BackupPorts), stand by: a backup carries data
// only when no non-backup subflow is live (3GPP ATSSS active-standby).
type ActiveStandby struct{}

// Pick implements Scheduler.
func (ActiveStandby) Pick(subs []SubflowInfo, last int, room uint64) int {
	for _, backup := range [2]bool{false, true} {
		for i := range subs {
			if subs[i].Live && subs[i].Backup == backup {
				return i
			}
		}
	}
	return -1
}

// Priority uses the access ports in a strict order: new data goes to the
// live subflow on the highest-ranked port that has window room; when
// every live subflow is full, to the highest-ranked one anyway (P holds
// no data). Ports not ranked come after the ranked ones, in subflow
// order; backups only when no non-backup subflow is live.
type Priority struct {
	// Rank[port] orders the access ports: lower first. Build it with
	// NewPriority.
	Rank [MaxCountedPorts]uint8
}

// NewPriority returns a Priority that ranks the access port indices in
// order (first is preferred); other ports rank after them.
func NewPriority(order []uint8) Priority {
	var p Priority
	for i := range p.Rank {
		p.Rank[i] = 255
	}
	for i, port := range order {
		if int(port) < len(p.Rank) && p.Rank[port] == 255 {
			p.Rank[port] = uint8(min(i, 254))
		}
	}
	return p
}

func (p *Priority) rank(port uint8) uint8 {
	if int(port) < len(p.Rank) {
		return p.Rank[port]
	}
	return 255
}

// Pick implements Scheduler.
func (p *Priority) Pick(subs []SubflowInfo, last int, room uint64) int {
	for _, backup := range [2]bool{false, true} {
		best, bestFull := -1, -1
		for i := range subs {
			s := &subs[i]
			if !s.Live || s.Backup != backup {
				continue
			}
			if s.InFlight < s.Window {
				if best < 0 || p.rank(s.Port) < p.rank(subs[best].Port) {
					best = i
				}
			} else if bestFull < 0 || p.rank(s.Port) < p.rank(subs[bestFull].Port) {
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

// SchedulerNames lists the names Config.Scheduler accepts.
var SchedulerNames = []string{"minrtt", "roundrobin", "weighted", "active-standby", "priority"}

// SchedulerRule selects a scheduler for the connections toward a prefix
// (Config.SchedulerRules); the longest matching prefix wins.
type SchedulerRule struct {
	Prefix    netip.Prefix
	Scheduler string
}

// newScheduler returns the scheduler named name; priority takes its port
// order from cfg.
func newSchedulerCfg(name string, cfg *Config) (Scheduler, error) {
	switch name {
	case "", "minrtt":
		return MinRTT{}, nil
	case "roundrobin":
		return RoundRobin{}, nil
	case "weighted":
		return Weighted{}, nil
	case "active-standby":
		return ActiveStandby{}, nil
	case "priority":
		p := NewPriority(cfg.PortPriority)
		return &p, nil
	}
	return nil, fmt.Errorf("translate: scheduler %q: want one of minrtt, roundrobin, weighted, active-standby, priority", name)
}

// newScheduler returns the scheduler named name with default settings.
func newScheduler(name string) (Scheduler, error) { return newSchedulerCfg(name, &Config{}) }

// newSchedulers returns the engine's scheduler table: index 0 is
// Config.Scheduler, index i+1 is Config.SchedulerRules[i].
func newSchedulers(cfg *Config) ([]Scheduler, error) {
	if len(cfg.SchedulerRules) > 254 {
		return nil, fmt.Errorf("translate: %d scheduler rules: at most 254", len(cfg.SchedulerRules))
	}
	out := make([]Scheduler, 0, 1+len(cfg.SchedulerRules))
	s, err := newSchedulerCfg(cfg.Scheduler, cfg)
	if err != nil {
		return nil, err
	}
	out = append(out, s)
	for i, r := range cfg.SchedulerRules {
		if !r.Prefix.IsValid() {
			return nil, fmt.Errorf("translate: scheduler rule %d: invalid prefix", i)
		}
		s, err := newSchedulerCfg(r.Scheduler, cfg)
		if err != nil {
			return nil, fmt.Errorf("translate: scheduler rule %d (%s): %w", i, r.Prefix, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// schedFor returns the index in the scheduler table for a connection
// toward dst: the rule with the longest prefix containing dst, else the
// default (0). Called once per connection, at its SYN.
func (e *Engine) schedFor(dst netip.Addr) uint8 {
	best, bits := 0, -1
	for i := range e.cfg.SchedulerRules {
		r := &e.cfg.SchedulerRules[i]
		if r.Prefix.Bits() > bits && r.Prefix.Contains(dst) {
			best, bits = i+1, r.Prefix.Bits()
		}
	}
	return uint8(best)
}

// pickFrom runs scheduler s over subs, first without the stale subflows,
// and with them only when no other subflow is live.
func pickFrom(s Scheduler, subs []SubflowInfo, last int, room uint64) int {
	stale := false
	for i := range subs {
		if subs[i].Live && subs[i].Stale {
			subs[i].Live, stale = false, true
		}
	}
	j := s.Pick(subs, last, room)
	if j >= 0 || !stale {
		return j
	}
	for i := range subs {
		if subs[i].Stale {
			subs[i].Live = true
		}
	}
	return s.Pick(subs, last, room)
}
