package steering

import (
	"bufio"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The golden captures of real Linux MPTCP connections live beside the
// translator (scripts/capture-golden.sh records them); this package reads
// them with a few lines of pcap parsing instead of a dependency.
const goldenDir = "../translate/testdata"

// readPcap returns the IP packets of a little-endian Ethernet pcap file.
func readPcap(tb testing.TB, path string) [][]byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if len(b) < 24 || binary.LittleEndian.Uint32(b[0:4]) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(b[20:24]) != 1 {
		tb.Fatalf("%s: not a little-endian Ethernet pcap", path)
	}
	var out [][]byte
	for off := 24; off+16 <= len(b); {
		incl := int(binary.LittleEndian.Uint32(b[off+8:]))
		off += 16
		if off+incl > len(b) {
			tb.Fatalf("%s: record runs past the file", path)
		}
		frame := b[off : off+incl]
		off += incl
		if len(frame) > 14 {
			if et := binary.BigEndian.Uint16(frame[12:14]); et == 0x0800 || et == 0x86dd {
				out = append(out, frame[14:])
			}
		}
	}
	return out
}

// goldenJoinTokens returns join_token per capture from keys.golden.
func goldenJoinTokens(tb testing.TB) map[string]uint32 {
	f, err := os.Open(filepath.Join(goldenDir, "keys.golden"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	out := map[string]uint32{}
	var section string
	for s := bufio.NewScanner(f); s.Scan(); {
		line := strings.TrimSpace(s.Text())
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]")
		}
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "join_token" {
			tok, err := strconv.ParseUint(strings.TrimSpace(v), 16, 32)
			if err != nil {
				tb.Fatal(err)
			}
			out[section] = uint32(tok)
		}
	}
	return out
}

// TestGoldenJoinSYN: the MP_JOIN SYNs Linux sent in the captures are
// classified by their token in software, and the NIC model's fixed-offset
// token rules (LinuxJoinLayouts) match them too.
func TestGoldenJoinSYN(t *testing.T) {
	tokens := goldenJoinTokens(t)
	if len(tokens) == 0 {
		t.Fatal("no join tokens in keys.golden")
	}
	for name, tok := range tokens {
		var joins [][]byte
		for _, p := range []string{"p1", "p2", "p3"} {
			for _, pkt := range readPcap(t, filepath.Join(goldenDir, name+"-"+p+".pcap")) {
				var info ipInfo
				if parse(pkt, &info) == classTCP {
					if got, ok := joinToken(info.tcp); ok {
						if got != tok {
							t.Fatalf("%s: join SYN token %#x, keys.golden %#x", name, got, tok)
						}
						joins = append(joins, pkt)
					}
				}
			}
		}
		if len(joins) == 0 {
			t.Fatalf("%s: no join SYN in the captures", name)
		}
		for _, n := range []int{1, 2, 3, 4, 24} {
			rs := mustRuleset(t, Config{Workers: n, SymmetricRSS: true})
			c := NewClassifier(rs)
			owner, ok := rs.Tokens().TokenOwner(tok)
			for _, pkt := range joins {
				core, why := c.Owner(pkt)
				if ok && (core != owner || why != ReasonJoinToken) {
					t.Errorf("%s N=%d: Owner = %d %v, token owner %d", name, n, core, why, owner)
				}
				if !ok && why != ReasonJoinBadToken {
					t.Errorf("%s N=%d: owner field %d: %v", name, n, owner, why)
				}
				q, kind := rs.Steer(pkt)
				if ok && (q != owner || kind != RuleJoinToken) {
					t.Errorf("%s N=%d: NIC model queue %d by %v, want %d by a token rule", name, n, q, kind, owner)
				}
			}
		}
	}
}

// TestGoldenSymmetric: in every capture, both directions of every TCP
// 4-tuple classify to the same core.
func TestGoldenSymmetric(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.pcap"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	c := NewClassifier(mustRuleset(t, Config{Workers: 24, SymmetricRSS: true}))
	owner := map[flowKey]int{}
	for _, f := range files {
		for _, pkt := range readPcap(t, f) {
			tu, ok := TupleOf(pkt)
			if !ok {
				continue
			}
			core, why := c.Owner(pkt)
			if why == ReasonJoinToken || why == ReasonJoinBadToken {
				continue
			}
			k := tu.key()
			if prev, seen := owner[k]; seen && prev != core {
				t.Fatalf("%s %v: core %d, earlier packets of the flow %d", filepath.Base(f), tu, core, prev)
			}
			owner[k] = core
		}
	}
	if len(owner) < 3 {
		t.Fatalf("only %d flows in the captures", len(owner))
	}
}
