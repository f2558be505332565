package dataplane

import (
	"fmt"
	"log/slog"

	"github.com/flexcp/flexcp/config"
	"github.com/flexcp/flexcp/dataplane/dpdk"
)

// NewOnPorts brings up the mempool, ports and workers of cfg like New, on
// an EAL the caller has already initialised and on ports the caller has
// already created: cfg.Ports[i].Device must be the name of an existing
// ethdev (for example one made with dpdk.NewRingPort, whose other ends a
// packet generator in the same process plays). It does not check
// interfaces or hugepages, and does not initialise the EAL; Close still
// cleans the EAL up, so a process runs one such dataplane.
//
// Unlike New it does not refuse several workers with [proxy] enabled: the
// caller decides which queue each packet enters, and a generator that
// keeps every packet of a connection on one queue (flow-to-core affinity)
// needs no cross-worker handoff. Without such steering, translation on
// several workers is only as good as the dataplane's handoff.
func NewOnPorts(cfg *config.Config, opt Options) (*Dataplane, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.DrainInterval == 0 {
		opt.DrainInterval = DefaultDrainInterval
	}
	if opt.MaxIdleSleep == 0 {
		opt.MaxIdleSleep = DefaultMaxIdleSleep
	}
	if opt.PublishInterval == 0 {
		opt.PublishInterval = DefaultPublishInterval
	}
	for i := range cfg.Ports {
		if _, err := dpdk.PortByName(cfg.Ports[i].VdevName()); err != nil {
			return nil, fmt.Errorf("dataplane: port %q: no ethdev named %q: create the ports before NewOnPorts: %w", cfg.Ports[i].Name, cfg.Ports[i].VdevName(), err)
		}
	}
	d := &Dataplane{cfg: cfg, opt: opt, log: opt.Logger}
	if err := d.setup(); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// DropCounts returns the dataplane's drops by reason (the labels of the
// flexcp_drops_total metric), summed over workers, leaving out reasons
// with none. Counters are published by the workers every
// PublishInterval and once when they stop: read it after Run returned
// for exact figures.
func (d *Dataplane) DropCounts() map[string]uint64 {
	labels := dropLabels()
	out := map[string]uint64{}
	for _, w := range d.workers {
		for r := range labels {
			if v := w.mc.Drops[r].Load(); v > 0 {
				out[labels[r]] += v
			}
		}
	}
	return out
}
