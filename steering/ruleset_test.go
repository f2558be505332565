package steering

import (
	"reflect"
	"strings"
	"testing"
)

func TestNewRulesetErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no workers", Config{}, "worker count"},
		{"too many workers", Config{Workers: 300}, "worker count"},
		{"asymmetric key with SymmetricRSS", Config{Workers: 2, SymmetricRSS: true, RSSKey: VerificationKey()}, "16-bit-periodic"},
		{"short symmetric key", Config{Workers: 2, SymmetricRSS: true, RSSKey: SymmetricKey(16)}, "16-bit-periodic"},
		{"RETA size", Config{Workers: 2, RETASize: 100}, "RETA size"},
		{"layout past header", Config{Workers: 2, JoinLayouts: []JoinLayout{{Name: "x", OptionOffset: 40, HeaderLen: 44}}}, `join layout "x"`},
		{"quota too big", Config{Workers: 24, SubflowsPerCore: 1 << 16}, "exceeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRuleset(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestDefaultRule(t *testing.T) {
	rs := mustRuleset(t, Config{Workers: 3, SymmetricRSS: true})
	want := Rule{
		Kind: RuleDefault, Priority: PriorityDefault, Core: -1,
		Pattern: []Item{{Type: ItemETH}},
		Actions: []Action{{Type: ActionRSS, RSS: RSSSpec{Symmetric: true, Key: SymmetricKey(40), Queues: []int{0, 1, 2}, Types: HashDefault}}},
	}
	if got := rs.DefaultRule(); !reflect.DeepEqual(got, want) {
		t.Fatalf("DefaultRule =\n%+v\nwant\n%+v", got, want)
	}
	if rs.RETA().Size() != DefaultRETASize || rs.SubflowsPerCore() != DefaultSubflowsPerCore {
		t.Fatal("defaults not applied")
	}
	if got := mustRuleset(t, Config{Workers: 3}).DefaultRule().Actions[0].RSS; got.Symmetric || string(got.Key) != string(VerificationKey()) {
		t.Fatalf("asymmetric default rule: %+v", got)
	}
}

func TestTokenRules(t *testing.T) {
	rs := mustRuleset(t, Config{Workers: 3, SymmetricRSS: true})
	rules := rs.TokenRules()
	if len(rules) != 3*2*len(LinuxJoinLayouts()) {
		t.Fatalf("%d token rules, want %d", len(rules), 3*2*2)
	}
	// Core 2, IPv4, linux-ts: SYN without ACK, 52-byte header, MP_JOIN
	// at 40 with subtype 1 and token & 3 == 2.
	want := Rule{
		Kind: RuleJoinToken, Priority: PriorityJoinToken, Core: 2,
		Pattern: []Item{
			{Type: ItemETH, ETH: ETHSpec{Type: 0x0800, TypeMask: 0xffff}},
			{Type: ItemIPv4, IPv4: IPv4Spec{Proto: 6, ProtoMask: 0xff}},
			{Type: ItemTCP, TCP: TCPSpec{DataOff: 13 << 4, DataOffMask: 0xf0, Flags: 0x02, FlagsMask: 0x12}},
			{Type: ItemRaw, Raw: RawSpec{
				Offset:  40,
				Pattern: []byte{30, 12, 0x10, 0, 0, 0, 0, 2},
				Mask:    []byte{0xff, 0xff, 0xf0, 0, 0, 0, 0, 3},
			}},
		},
		Actions: []Action{Queue(2)},
	}
	var found bool
	for _, r := range rules {
		if reflect.DeepEqual(r, want) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no rule %+v among\n%+v", want, rules)
	}

	client := mustTuple("198.18.2.2:49635", "198.18.3.2:5201")
	client6 := mustTuple("[2001:db8:2::2]:35767", "[2001:db8:3::2]:5201")
	for _, l := range joinLayouts {
		for _, tu := range []Tuple{client, client6} {
			for core := 0; core < 3; core++ {
				tok := 0xabcdef00 | uint32(core)
				pkt := buildTCP(tu, tcpFlagSYN, l.opts(tok), 0)
				var matched []int
				for i := range rules {
					if rules[i].Matches(pkt) {
						matched = append(matched, rules[i].Core)
					}
				}
				if l.nic && !reflect.DeepEqual(matched, []int{core}) {
					t.Errorf("%s v6=%v core %d: matched by rules of cores %v", l.name, tu.IPv6, core, matched)
				}
				if !l.nic && matched != nil {
					t.Errorf("%s: a fixed-offset rule matched (cores %v)", l.name, matched)
				}
				// The SYN/ACK and an ACK with the same bytes are not join SYNs.
				for _, fl := range []uint8{tcpFlagSYN | tcpFlagACK, tcpFlagACK} {
					pkt := buildTCP(tu, fl, l.opts(tok), 0)
					for i := range rules {
						if rules[i].Matches(pkt) {
							t.Errorf("%s flags %#x matched a token rule", l.name, fl)
						}
					}
				}
			}
		}
	}
}

func TestSubflowRules(t *testing.T) {
	rs := mustRuleset(t, Config{Workers: 2, SymmetricRSS: true, SubflowsPerCore: 2})
	a := mustTuple("198.18.2.2:40000", "198.18.3.2:5201")
	b := mustTuple("[2001:db8:2::2]:40001", "[2001:db8:3::2]:443")
	c := mustTuple("198.18.2.2:40002", "198.18.3.2:5201")
	ida, err := rs.AddSubflow(a, 1)
	if err != nil || ida == 0 {
		t.Fatalf("AddSubflow: %v %v", ida, err)
	}
	if _, err := rs.AddSubflow(a.Reverse(), 0); err != ErrSubflowExists {
		t.Fatalf("reverse duplicate: %v", err)
	}
	idb, _ := rs.AddSubflow(b, 1)
	if _, err := rs.AddSubflow(c, 1); err != ErrSubflowQuota {
		t.Fatalf("over quota: %v", err)
	}
	if _, err := rs.AddSubflow(c, 2); err != ErrCore {
		t.Fatalf("bad core: %v", err)
	}
	if got := rs.SubflowRulesOf(ida); len(got) != 2 || got[0].ID != ida || got[1].Core != 1 ||
		!got[0].Matches(buildTCP(a, tcpFlagACK, nil, 10)) || !got[1].Matches(buildTCP(a.Reverse(), tcpFlagACK, nil, 10)) ||
		got[0].Matches(buildTCP(c, tcpFlagACK, nil, 0)) {
		t.Fatalf("rules of a: %+v", got)
	}
	want := Rule{Kind: RuleSubflow, ID: idb, Priority: PrioritySubflow, Core: 1,
		Pattern: []Item{
			{Type: ItemETH, ETH: ETHSpec{Type: 0x86dd, TypeMask: 0xffff}},
			{Type: ItemIPv6, IPv6: IPv6Spec{Src: b.Src, Dst: b.Dst, SrcMask: allOnes16, DstMask: allOnes16, Proto: 6, ProtoMask: 0xff}},
			{Type: ItemTCP, TCP: TCPSpec{SrcPort: 40001, DstPort: 443, SrcPortMask: 0xffff, DstPortMask: 0xffff}},
		},
		Actions: []Action{Queue(1)},
	}
	if got := rs.SubflowRulesOf(idb)[0]; !reflect.DeepEqual(got, want) {
		t.Fatalf("rule of b =\n%+v\nwant\n%+v", got, want)
	}
	if n := len(rs.Rules()); n != 4+2*2*2+1 {
		t.Fatalf("%d rules", n)
	}
	if err := rs.RemoveSubflow(ida); err != nil {
		t.Fatal(err)
	}
	if err := rs.RemoveSubflow(ida); err != ErrSubflowUnknown {
		t.Fatalf("second remove: %v", err)
	}
	idc, err := rs.AddSubflow(c, 1) // reuses a's slot with a new generation
	if err != nil || idc == ida {
		t.Fatalf("re-add: %v %v (old id %v)", idc, err, ida)
	}
	if _, _, ok := rs.Subflow(ida); ok {
		t.Fatal("stale id still resolves")
	}
	if tu, core, ok := rs.Subflow(idc); !ok || tu != c || core != 1 || rs.Subflows() != 2 {
		t.Fatalf("Subflow(idc) = %v %d %v", tu, core, ok)
	}
	if rs.RemoveSubflow(RuleID(1<<30)) != ErrSubflowUnknown {
		t.Fatal("bogus id removed")
	}
}
