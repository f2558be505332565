package nicconf

import (
	"errors"
	"fmt"
	"sync"
	"syscall"

	"github.com/flexcp/flexcp/dataplane/dpdk"
)

// fakeDevice is a Device whose flow methods accept or refuse rules by a
// function of the compiled pattern, and record what was created.
type fakeDevice struct {
	name string
	info dpdk.PortInfo
	// refuse returns the error FlowValidate gives for a pattern, nil to
	// accept.
	refuse func(pattern []dpdk.FlowItem) error
	// createErr fails every FlowCreate.
	createErr error
	rssErr    error

	retaErr error

	mu      sync.Mutex
	rss     []dpdk.RSSConf
	reta    []uint16
	active  map[*fakeFlow]bool
	created int
}

type fakeFlow struct {
	d       *fakeDevice
	pattern []dpdk.FlowItem
}

func (f *fakeFlow) Destroy() error {
	f.d.mu.Lock()
	defer f.d.mu.Unlock()
	if !f.d.active[f] {
		return errors.New("fake: flow destroyed twice")
	}
	delete(f.d.active, f)
	return nil
}

func (d *fakeDevice) Name() (string, error)        { return d.name, nil }
func (d *fakeDevice) Info() (dpdk.PortInfo, error) { return d.info, nil }
func (d *fakeDevice) RSSHashUpdate(c dpdk.RSSConf) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rssErr != nil {
		return d.rssErr
	}
	d.rss = append(d.rss, c)
	return nil
}

func (d *fakeDevice) RSSRETAUpdate(q []uint16) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.retaErr != nil {
		return d.retaErr
	}
	d.reta = append([]uint16(nil), q...)
	return nil
}

func (d *fakeDevice) FlowValidate(attr dpdk.FlowAttr, pattern []dpdk.FlowItem, actions []dpdk.FlowAction) error {
	if _, err := dpdk.MarshalFlowRule(attr, pattern, actions); err != nil {
		return fmt.Errorf("fake: %w", err)
	}
	if d.refuse != nil {
		return d.refuse(pattern)
	}
	return nil
}

func (d *fakeDevice) FlowCreate(attr dpdk.FlowAttr, pattern []dpdk.FlowItem, actions []dpdk.FlowAction) (Flow, error) {
	if err := d.FlowValidate(attr, pattern, actions); err != nil {
		return nil, err
	}
	if d.createErr != nil {
		return nil, d.createErr
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.active == nil {
		d.active = map[*fakeFlow]bool{}
	}
	f := &fakeFlow{d: d, pattern: pattern}
	d.active[f] = true
	d.created++
	return f, nil
}

func (d *fakeDevice) activeFlows() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.active)
}

// Refusal policies, as real PMDs answer.
func refuseAll(errno syscall.Errno) func([]dpdk.FlowItem) error {
	return func([]dpdk.FlowItem) error {
		return &dpdk.FlowError{Op: "rte_flow_validate", Errno: dpdk.Errno(errno)}
	}
}

func refuseItem(t dpdk.FlowItemType, msg string) func([]dpdk.FlowItem) error {
	return func(p []dpdk.FlowItem) error {
		for _, it := range p {
			if it.Type == t {
				return &dpdk.FlowError{Op: "rte_flow_validate", Errno: dpdk.Errno(syscall.ENOTSUP), Message: msg, Type: 8}
			}
		}
		return nil
	}
}

func refuseRSSOrRaw(p []dpdk.FlowItem) error {
	if len(p) == 1 {
		return &dpdk.FlowError{Op: "rte_flow_validate", Errno: dpdk.Errno(syscall.EINVAL), Message: "RSS action not supported"}
	}
	return refuseItem(dpdk.FlowItemRaw, "raw item not supported")(p)
}

func refuseV6(p []dpdk.FlowItem) error {
	for _, it := range p {
		if it.Type == dpdk.FlowItemIPv6 {
			return &dpdk.FlowError{Op: "rte_flow_validate", Errno: dpdk.Errno(syscall.ENOTSUP)}
		}
	}
	return nil
}

var rssAll = dpdk.RSSIP | dpdk.RSSTCP
