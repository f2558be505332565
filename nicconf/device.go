package nicconf

import "github.com/flexcp/flexcp/dataplane/dpdk"

// Device is what nicconf needs of a port: the dpdk.Port methods it calls,
// behind an interface so that tests can inject ports that accept or refuse
// rules. PortDevice adapts a dpdk.Port.
type Device interface {
	// Name returns the port's device name.
	Name() (string, error)
	// Info returns the port's capabilities.
	Info() (dpdk.PortInfo, error)
	// RSSHashUpdate sets the port's RSS key and hash types.
	RSSHashUpdate(c dpdk.RSSConf) error
	// RSSRETAUpdate writes the port's RSS redirection table.
	RSSRETAUpdate(queues []uint16) error
	// FlowValidate asks whether the port would accept the rule.
	FlowValidate(attr dpdk.FlowAttr, pattern []dpdk.FlowItem, actions []dpdk.FlowAction) error
	// FlowCreate installs the rule.
	FlowCreate(attr dpdk.FlowAttr, pattern []dpdk.FlowItem, actions []dpdk.FlowAction) (Flow, error)
}

// Flow is an installed rule (a *dpdk.Flow on a real port).
type Flow interface {
	// Destroy removes the rule from its port.
	Destroy() error
}

// PortDevice adapts a dpdk.Port to Device.
type PortDevice struct {
	dpdk.Port
}

// FlowCreate installs the rule (rte_flow_create) and returns its handle.
func (p PortDevice) FlowCreate(attr dpdk.FlowAttr, pattern []dpdk.FlowItem, actions []dpdk.FlowAction) (Flow, error) {
	f, err := p.Port.FlowCreate(attr, pattern, actions)
	if err != nil {
		return nil, err
	}
	return f, nil
}
