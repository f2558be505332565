package nicconf

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"

	"github.com/flexcp/flexcp/dataplane/dpdk"
	"github.com/flexcp/flexcp/steering"
)

// minRSSKeyLen is the key length the Toeplitz hash of an IPv6 TCP 4-tuple
// reads (36 input bytes plus the 4-byte window): a longer port key is
// padded past it without changing any hash steering computes.
const minRSSKeyLen = 40

// KindStats counts what Probe did with the rules of one kind on one port,
// for logs and metrics.
type KindStats struct {
	Kind steering.RuleKind
	// Rules is the number of rules of the kind Probe validated (for
	// RuleSubflow: a v4 and a v6 template plus the subflow rules the
	// Ruleset held).
	Rules int
	// Accepted and Rejected count FlowValidate's verdicts.
	Accepted, Rejected int
	// Installed and InstallFailed count FlowCreate's results on accepted
	// rules (subflow templates are validated, never installed).
	Installed, InstallFailed int
	// Err is the first error of the kind (rejection or failed install),
	// empty if none.
	Err string
	// NoFlowAPI is true when every rejection was ENOSYS: the driver has
	// no rte_flow support at all.
	NoFlowAPI bool
}

// Offloaded reports whether every rule of the kind was installed (for
// RuleSubflow: accepted, since the Installer installs them later).
func (k KindStats) Offloaded() bool {
	if k.Rules == 0 || k.Rejected > 0 {
		return false
	}
	if k.Kind == steering.RuleSubflow {
		return true
	}
	return k.InstallFailed == 0 && k.Installed == k.Rules
}

// RSSStatus is the outcome of the ethdev RSS configuration.
type RSSStatus struct {
	// Supported: the port reports RSS hash types (PortInfo.RSSOffloads).
	Supported bool
	// Configured: RSSHashUpdate took the Ruleset's key and hash types.
	Configured bool
	// Symmetric: the key set is the Ruleset's symmetric key.
	Symmetric bool
	// KeyLen is the length of the key set (the port's key size, or the
	// Ruleset's key length when the port reports none).
	KeyLen int
	// Types are the RTE_ETH_RSS_* bits requested (RSSTypes of the default
	// rule's inputs, restricted to what the port supports).
	Types uint64
	// Missing are the wanted hash types the port does not support.
	Missing uint64
	// Err says why RSS is not configured, empty if it is.
	Err string
}

// InstalledFlow is a rule Probe installed.
type InstalledFlow struct {
	Kind steering.RuleKind
	Core int // the rule's core, -1 for the default RSS rule
	Flow Flow
}

// Report says what Probe offloaded on one port and what falls back to the
// software classifier. String is the one-line summary to log once; Kinds
// and RSS carry the counters for metrics.
type Report struct {
	Port   string // device name ("" if unknown)
	Driver string // PMD name from PortInfo ("" if unknown)
	// Kinds has one entry per rule kind, in the order subflow, join-token,
	// default-rss.
	Kinds []KindStats
	// SubflowV4 and SubflowV6 say whether the port validated a 5-tuple
	// QUEUE rule of that IP version: the Installer offloads subflow rules
	// of that version only.
	SubflowV4, SubflowV6 bool
	RSS                  RSSStatus
	// RETAProgrammed: the port's redirection table was set to the
	// Ruleset's RETA resized to the port's table (rte_eth_dev_rss_reta_update),
	// so the NIC's queue for a hash is the classifier's owner. False when
	// RSS is not configured, the port reports no table, or it refused the
	// update (RETAErr): the port then keeps its driver's table, and the
	// software classifier hands over what lands elsewhere.
	RETAProgrammed bool
	// RETAErr says why the RETA was not programmed on a port with RSS
	// configured, empty otherwise.
	RETAErr string
	// Flows are the rules Probe installed; Destroy removes them.
	Flows []InstalledFlow
	// Err is a port-level failure (PortInfo could not be read).
	Err string

	dev Device
}

// Kind returns the stats of one rule kind.
func (r *Report) Kind(k steering.RuleKind) KindStats {
	for _, s := range r.Kinds {
		if s.Kind == k {
			return s
		}
	}
	return KindStats{Kind: k}
}

func (r *Report) kind(k steering.RuleKind) *KindStats {
	for i := range r.Kinds {
		if r.Kinds[i].Kind == k {
			return &r.Kinds[i]
		}
	}
	panic("nicconf: unknown rule kind")
}

// Device returns the port the report is about.
func (r *Report) Device() Device { return r.dev }

// NoFlowAPI reports whether the port has no rte_flow support at all: every
// rule it was asked about failed with ENOSYS.
func (r *Report) NoFlowAPI() bool {
	n := 0
	for _, k := range r.Kinds {
		if k.Accepted > 0 || (k.Rejected > 0 && !k.NoFlowAPI) {
			return false
		}
		n += k.Rejected
	}
	return n > 0
}

// Software returns the rule kinds the port does not handle, which the
// software classifier must: the default rule counts as handled when either
// its rte_flow RSS rule is installed or ethdev RSS is configured.
func (r *Report) Software() []steering.RuleKind {
	var out []steering.RuleKind
	for _, k := range r.Kinds {
		if k.Offloaded() || (k.Kind == steering.RuleDefault && r.RSS.Configured) {
			continue
		}
		out = append(out, k.Kind)
	}
	return out
}

// String is the one-line summary, for example
//
//	port net_null0 (net_null): no rte_flow support (validate: Function not implemented); RSS: not supported; steering in software
func (r Report) String() string {
	var b strings.Builder
	name := r.Port
	if name == "" {
		name = "?"
	}
	drv := r.Driver
	if drv == "" {
		drv = "unknown driver"
	}
	fmt.Fprintf(&b, "port %s (%s): ", name, drv)
	if r.Err != "" {
		fmt.Fprintf(&b, "%s; ", r.Err)
	}
	switch {
	case r.NoFlowAPI():
		fmt.Fprintf(&b, "no rte_flow support (validate: %s)", r.firstErr())
	default:
		b.WriteString("rte_flow:")
		for i, k := range r.Kinds {
			if i > 0 {
				b.WriteByte(',')
			}
			if k.Kind == steering.RuleSubflow {
				fmt.Fprintf(&b, " %v %d/%d validated", k.Kind, k.Accepted, k.Rules)
			} else {
				fmt.Fprintf(&b, " %v %d/%d installed", k.Kind, k.Installed, k.Rules)
			}
			if k.Err != "" {
				fmt.Fprintf(&b, " (%s)", k.Err)
			}
		}
	}
	b.WriteString("; RSS: ")
	switch {
	case r.RSS.Configured:
		kind := "key"
		if r.RSS.Symmetric {
			kind = "symmetric key"
		}
		fmt.Fprintf(&b, "%s set (%d bytes, types %#x)", kind, r.RSS.KeyLen, r.RSS.Types)
		if r.RETAProgrammed {
			b.WriteString(", RETA programmed")
		} else if r.RETAErr != "" {
			fmt.Fprintf(&b, ", RETA not programmed (%s)", r.RETAErr)
		}
		if r.RSS.Missing != 0 {
			fmt.Fprintf(&b, ", port lacks types %#x", r.RSS.Missing)
		}
	case !r.RSS.Supported:
		b.WriteString("not supported")
	default:
		fmt.Fprintf(&b, "not configured (%s)", r.RSS.Err)
	}
	sw := r.Software()
	switch {
	case len(sw) == len(r.Kinds):
		b.WriteString("; steering in software")
	case len(sw) == 0:
		b.WriteString("; steering in the NIC")
	default:
		b.WriteString("; software steering for")
		for i, k := range sw {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, " %v", k)
		}
	}
	return b.String()
}

func (r *Report) firstErr() string {
	for _, k := range r.Kinds {
		if k.Err != "" {
			return k.Err
		}
	}
	return ""
}

// Destroy removes the rules Probe installed and forgets them.
func (r *Report) Destroy() error {
	var errs []error
	for _, f := range r.Flows {
		if err := f.Flow.Destroy(); err != nil {
			errs = append(errs, fmt.Errorf("nicconf: port %s: destroy %v rule (core %d): %w", r.Port, f.Kind, f.Core, err))
		}
	}
	r.Flows = nil
	return errors.Join(errs...)
}

// Probe asks a port what it supports and installs what it accepts (see
// ProbeDevice).
func Probe(port dpdk.Port, rs *steering.Ruleset) Report {
	return ProbeDevice(PortDevice{port}, rs)
}

// ProbeDevice validates every rule of rs on dev and installs those it
// accepts, remembering their handles in the Report:
//
//   - the subflow rules rs holds, and two templates (a v4 and a v6 5-tuple
//     QUEUE rule) that are validated only, to tell the Installer whether
//     the port can take subflow rules later;
//   - the token rules and the default RSS rule.
//
// It then sets ethdev RSS when the port supports it (PortInfo.RSSOffloads
// not zero): rs's key, padded to the port's key size, and RSSTypes of the
// default rule's inputs. The port must be configured with RSS and at least
// rs.Workers() receive queues, and not yet started if its driver wants
// that. Nothing is fatal: what the port refuses is reported and falls back
// to the software classifier. Call it from the control plane, once per
// port, before Installer.Start.
func ProbeDevice(dev Device, rs *steering.Ruleset) Report {
	r := Report{dev: dev, Kinds: []KindStats{
		{Kind: steering.RuleSubflow}, {Kind: steering.RuleJoinToken}, {Kind: steering.RuleDefault},
	}}
	if name, err := dev.Name(); err == nil {
		r.Port = name
	}
	info, err := dev.Info()
	if err != nil {
		r.Err = fmt.Sprintf("port info: %v", err)
	} else {
		r.Driver = info.Driver
	}

	v4, v6 := subflowTemplates(rs)
	r.SubflowV4 = r.probeRule(v4, false)
	r.SubflowV6 = r.probeRule(v6, false)
	for _, rule := range rs.SubflowRules() {
		r.probeRule(rule, true)
	}
	for _, rule := range rs.TokenRules() {
		r.probeRule(rule, true)
	}
	r.probeRule(rs.DefaultRule(), true)

	if err == nil {
		r.RSS = configureRSS(dev, info, rs)
		if r.RSS.Configured && info.RetaSize > 0 {
			r.RETAProgrammed, r.RETAErr = programRETA(dev, int(info.RetaSize), rs)
		}
	} else {
		r.RSS.Err = "port info unavailable"
	}
	return r
}

// probeRule validates one rule and, if install, creates it; it returns
// whether the port accepted it.
func (r *Report) probeRule(rule steering.Rule, install bool) bool {
	k := r.kind(rule.Kind)
	k.Rules++
	pattern, actions, attr, err := Compile(rule)
	if err == nil {
		err = r.dev.FlowValidate(attr, pattern, actions)
	}
	if err != nil {
		if k.Rejected == 0 || k.NoFlowAPI {
			k.NoFlowAPI = errors.Is(err, syscall.ENOSYS)
		}
		k.Rejected++
		if k.Err == "" {
			k.Err = shortErr(err)
		}
		return false
	}
	k.Accepted++
	if !install {
		return true
	}
	f, err := r.dev.FlowCreate(attr, pattern, actions)
	if err != nil {
		k.InstallFailed++
		if k.Err == "" {
			k.Err = "create: " + shortErr(err)
		}
		return true
	}
	k.Installed++
	r.Flows = append(r.Flows, InstalledFlow{Kind: rule.Kind, Core: rule.Core, Flow: f})
	return true
}

// shortErr is an rte_flow error's errno and PMD message, or the error's
// text.
func shortErr(err error) string {
	var fe *dpdk.FlowError
	if errors.As(err, &fe) {
		s := fe.Errno.Error()
		if fe.Message != "" && fe.Message != s {
			s += ": " + fe.Message
		}
		return s
	}
	return err.Error()
}

// subflowTemplates returns a v4 and a v6 subflow rule (client to proxy) on
// documentation addresses, to validate whether a port takes 5-tuple rules.
func subflowTemplates(rs *steering.Ruleset) (v4, v6 steering.Rule) {
	scratch, err := steering.NewRuleset(steering.Config{Workers: rs.Workers(), SubflowsPerCore: 2})
	if err != nil {
		panic("nicconf: scratch ruleset: " + err.Error())
	}
	tuples := []steering.Tuple{
		steering.TupleFrom(netip.MustParseAddrPort("198.18.1.2:49152"), netip.MustParseAddrPort("198.18.3.2:5201")),
		steering.TupleFrom(netip.MustParseAddrPort("[2001:db8:1::2]:49152"), netip.MustParseAddrPort("[2001:db8:3::2]:5201")),
	}
	var out [2]steering.Rule
	for i, t := range tuples {
		id, err := scratch.AddSubflow(t, 0)
		if err != nil {
			panic("nicconf: scratch subflow: " + err.Error())
		}
		out[i] = scratch.SubflowRulesOf(id)[0]
	}
	return out[0], out[1]
}

// configureRSS sets the port's RSS key and hash types from rs.
func configureRSS(dev Device, info dpdk.PortInfo, rs *steering.Ruleset) RSSStatus {
	st := RSSStatus{Supported: info.RSSOffloads != 0}
	if !st.Supported {
		st.Err = "not supported"
		return st
	}
	key := rs.RSSKey()
	if n := int(info.HashKeySize); n != 0 {
		if n < minRSSKeyLen {
			st.Err = fmt.Sprintf("port key of %d bytes is shorter than the %d the IPv6 4-tuple needs", n, minRSSKeyLen)
			return st
		}
		key = fitKey(key, n, rs.Symmetric())
	}
	want := RSSTypes(steering.HashDefault)
	st.Types = want & info.RSSOffloads
	st.Missing = want &^ info.RSSOffloads
	st.KeyLen = len(key)
	if err := dev.RSSHashUpdate(dpdk.RSSConf{Key: key, Types: st.Types}); err != nil {
		st.Err = err.Error()
		return st
	}
	st.Configured = true
	st.Symmetric = rs.Symmetric()
	return st
}

// programRETA writes rs's redirection table, resized to the port's size,
// into the port.
func programRETA(dev Device, size int, rs *steering.Ruleset) (bool, string) {
	reta, err := rs.RETA().Resize(size)
	if err != nil {
		return false, fmt.Sprintf("RETA of %d entries: %v", size, err)
	}
	q := make([]uint16, size)
	for i := range q {
		q[i] = uint16(reta.Entry(i))
	}
	if err := dev.RSSRETAUpdate(q); err != nil {
		return false, err.Error()
	}
	return true, ""
}

// fitKey returns key resized to n bytes: truncated, or extended by
// repeating its 16-bit period when symmetric (so it stays symmetric) and
// with zeros otherwise. Bytes past minRSSKeyLen never enter a hash steering
// computes, so the hashes do not change.
func fitKey(key []byte, n int, symmetric bool) []byte {
	out := make([]byte, n)
	copy(out, key)
	if symmetric && len(key) >= 2 {
		for i := len(key); i < n; i++ {
			out[i] = key[i%2]
		}
	}
	return out
}
