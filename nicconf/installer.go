package nicconf

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/flexcp/flexcp/steering"
)

// OpKind says what an Op asks for.
type OpKind uint8

// Installer operations.
const (
	OpInstall OpKind = iota + 1 // add the subflow's rules (Ruleset.AddSubflow) and install them
	OpRemove                    // destroy the subflow's rules and forget them (Ruleset.RemoveSubflow)
)

// Op is a worker's request to the Installer: a plain, pointer-free value
// that travels through a channel without allocating.
type Op struct {
	Kind OpKind
	// Tuple is the join subflow's 4-tuple as the owner sees the client's
	// packets; OpRemove also finds it by its reverse.
	Tuple steering.Tuple
	// Core is the owner (OpInstall only).
	Core int
}

// DefaultQueueLen is the request channel's capacity unless NewInstaller is
// told otherwise.
const DefaultQueueLen = 4096

// PortStats counts the Installer's work on one port.
type PortStats struct {
	Port string
	// Offload says the port validated subflow rules (v4, v6).
	OffloadV4, OffloadV6 bool
	// Installed and InstallFailed count FlowCreate calls on subflow rules
	// (two per subflow: one per direction).
	Installed, InstallFailed uint64
	// Removed and RemoveFailed count Destroy calls.
	Removed, RemoveFailed uint64
	// Skipped counts operations on a port that refused that IP version's
	// subflow rules: nothing was done but counting.
	Skipped uint64
	// Active is the number of subflow flows installed now.
	Active uint64
}

// InstallerStats are the Installer's counters, for metrics.
type InstallerStats struct {
	// Requests counts ops accepted by Request; Dropped those refused
	// because the channel was full or the Installer stopped.
	Requests, Dropped uint64
	// Processed counts ops the goroutine has handled.
	Processed uint64
	// Quota, Exists, BadCore and Unknown count ops the Ruleset refused:
	// the owner at its SubflowsPerCore limit, a rule for the tuple
	// already there, a core out of range, a removal of no known subflow.
	Quota, Exists, BadCore, Unknown uint64
	// CompileErrors counts subflow rules Compile refused (a bug).
	CompileErrors uint64
	Ports         []PortStats
}

type portState struct {
	name       string
	dev        Device
	offV4      bool
	offV6      bool
	flows      map[steering.RuleID][]Flow // touched by the goroutine only
	installed  atomic.Uint64
	installErr atomic.Uint64
	removed    atomic.Uint64
	removeErr  atomic.Uint64
	skipped    atomic.Uint64
	active     atomic.Uint64
}

// Installer is the control-plane goroutine that installs and removes the
// 5-tuple rules of join subflows at a worker's request, so a worker never
// waits for a NIC. Workers call Request (any goroutine; non-blocking);
// the Installer's goroutine is, after Start, the only one that changes
// the Ruleset's subflow rules and calls the ports' flow methods for them.
// On a port whose Report says it refused subflow rules of a version, ops
// of that version are only counted.
type Installer struct {
	rs    *steering.Ruleset
	ports []*portState
	ch    chan Op
	stop  chan struct{}
	done  chan struct{}

	startOnce, stopOnce sync.Once
	stopped             atomic.Bool

	byTuple map[steering.Tuple]steering.RuleID // goroutine only

	requests, dropped, processed   atomic.Uint64
	quota, exists, badCore, unknwn atomic.Uint64
	compileErrs                    atomic.Uint64
}

// NewInstaller returns an Installer over the ports of reports (from Probe
// on the same rs) with a request channel of queueLen ops (0:
// DefaultQueueLen).
func NewInstaller(rs *steering.Ruleset, reports []Report, queueLen int) *Installer {
	if queueLen <= 0 {
		queueLen = DefaultQueueLen
	}
	in := &Installer{
		rs:      rs,
		ch:      make(chan Op, queueLen),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		byTuple: make(map[steering.Tuple]steering.RuleID),
	}
	for i := range reports {
		r := &reports[i]
		in.ports = append(in.ports, &portState{
			name: r.Port, dev: r.dev, offV4: r.SubflowV4, offV6: r.SubflowV6,
			flows: make(map[steering.RuleID][]Flow),
		})
	}
	return in
}

// Start launches the goroutine. Calling it again does nothing.
func (in *Installer) Start() {
	in.startOnce.Do(func() { go in.run() })
}

// Stop refuses further requests, lets the goroutine handle what is
// queued, then destroys every subflow rule it installed and returns (a
// Stop without Start handles the queued ops too).
func (in *Installer) Stop() {
	in.stopOnce.Do(func() {
		in.stopped.Store(true)
		in.Start()
		close(in.stop)
		<-in.done
		for _, p := range in.ports {
			for id := range p.flows {
				in.destroy(p, id)
			}
		}
	})
}

// Request queues op without blocking: false when the channel is full or
// the Installer is stopped (counted in Dropped). A refused install leaves
// the subflow to the software classifier; a refused remove leaves a stale
// NIC rule steering a dead 4-tuple to its old owner until Stop. It does
// not allocate.
func (in *Installer) Request(op Op) bool {
	if in.stopped.Load() {
		in.dropped.Add(1)
		return false
	}
	select {
	case in.ch <- op:
		in.requests.Add(1)
		return true
	default:
		in.dropped.Add(1)
		return false
	}
}

// Install requests OpInstall of t for core.
func (in *Installer) Install(t steering.Tuple, core int) bool {
	return in.Request(Op{Kind: OpInstall, Tuple: t, Core: core})
}

// Remove requests OpRemove of t.
func (in *Installer) Remove(t steering.Tuple) bool {
	return in.Request(Op{Kind: OpRemove, Tuple: t})
}

func (in *Installer) run() {
	defer close(in.done)
	for {
		select {
		case op := <-in.ch:
			in.handle(op)
		case <-in.stop:
			for {
				select {
				case op := <-in.ch:
					in.handle(op)
				default:
					return
				}
			}
		}
	}
}

func (in *Installer) handle(op Op) {
	defer in.processed.Add(1)
	switch op.Kind {
	case OpInstall:
		in.install(op.Tuple, op.Core)
	case OpRemove:
		in.remove(op.Tuple)
	default:
		in.unknwn.Add(1)
	}
}

func (in *Installer) install(t steering.Tuple, core int) {
	id, err := in.rs.AddSubflow(t, core)
	switch {
	case errors.Is(err, steering.ErrSubflowQuota):
		in.quota.Add(1)
		return
	case errors.Is(err, steering.ErrSubflowExists):
		in.exists.Add(1)
		return
	case errors.Is(err, steering.ErrCore):
		in.badCore.Add(1)
		return
	case err != nil:
		in.unknwn.Add(1)
		return
	}
	in.byTuple[t] = id
	rules := in.rs.SubflowRulesOf(id)
	for _, p := range in.ports {
		if !p.offloads(t.IPv6) {
			p.skipped.Add(1)
			continue
		}
		for _, r := range rules {
			pattern, actions, attr, err := Compile(r)
			if err != nil {
				in.compileErrs.Add(1)
				continue
			}
			f, err := p.dev.FlowCreate(attr, pattern, actions)
			if err != nil {
				p.installErr.Add(1)
				continue
			}
			p.flows[id] = append(p.flows[id], f)
			p.installed.Add(1)
			p.active.Add(1)
		}
	}
}

func (in *Installer) remove(t steering.Tuple) {
	id, ok := in.byTuple[t]
	if !ok {
		t = t.Reverse()
		if id, ok = in.byTuple[t]; !ok {
			in.unknwn.Add(1)
			return
		}
	}
	delete(in.byTuple, t)
	if err := in.rs.RemoveSubflow(id); err != nil {
		in.unknwn.Add(1)
	}
	for _, p := range in.ports {
		if !p.offloads(t.IPv6) {
			p.skipped.Add(1)
			continue
		}
		in.destroy(p, id)
	}
}

// destroy removes the flows of id on p.
func (in *Installer) destroy(p *portState, id steering.RuleID) {
	for _, f := range p.flows[id] {
		if err := f.Destroy(); err != nil {
			p.removeErr.Add(1)
		} else {
			p.removed.Add(1)
		}
		p.active.Add(^uint64(0))
	}
	delete(p.flows, id)
}

func (p *portState) offloads(v6 bool) bool {
	if v6 {
		return p.offV6
	}
	return p.offV4
}

// Stats returns a snapshot of the counters; safe from any goroutine.
func (in *Installer) Stats() InstallerStats {
	s := InstallerStats{
		Requests: in.requests.Load(), Dropped: in.dropped.Load(), Processed: in.processed.Load(),
		Quota: in.quota.Load(), Exists: in.exists.Load(), BadCore: in.badCore.Load(), Unknown: in.unknwn.Load(),
		CompileErrors: in.compileErrs.Load(),
	}
	for _, p := range in.ports {
		s.Ports = append(s.Ports, PortStats{
			Port: p.name, OffloadV4: p.offV4, OffloadV6: p.offV6,
			Installed: p.installed.Load(), InstallFailed: p.installErr.Load(),
			Removed: p.removed.Load(), RemoveFailed: p.removeErr.Load(),
			Skipped: p.skipped.Load(), Active: p.active.Load(),
		})
	}
	return s
}

// String is a one-line summary of the counters.
func (s InstallerStats) String() string {
	out := fmt.Sprintf("installer: %d requests, %d dropped, %d processed, refused: %d quota, %d exists, %d bad core, %d unknown",
		s.Requests, s.Dropped, s.Processed, s.Quota, s.Exists, s.BadCore, s.Unknown)
	for _, p := range s.Ports {
		out += fmt.Sprintf("; port %s: %d installed (%d failed), %d removed (%d failed), %d skipped, %d active",
			p.Port, p.Installed, p.InstallFailed, p.Removed, p.RemoveFailed, p.Skipped, p.Active)
	}
	return out
}
