package config

import (
	"strings"
	"testing"
)

// meminfo returns /proc/meminfo lines for the hugepage fields.
func meminfo(total, free, sizeKB string) string {
	return "MemTotal:        8000000 kB\n" +
		"HugePages_Total:    " + total + "\n" +
		"HugePages_Free:     " + free + "\n" +
		"HugePages_Rsvd:        0\n" +
		"Hugepagesize:       " + sizeKB + " kB\n"
}

const (
	mountsWith    = "proc /proc proc rw 0 0\nnodev /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n"
	mountsWithout = "proc /proc proc rw 0 0\ntmpfs /run tmpfs rw 0 0\n"
)

func TestCheckHugepages(t *testing.T) {
	const mb = 1 << 20
	tests := []struct {
		name    string
		meminfo string
		mounts  string
		need    uint64
		want    string // "" for no error
	}{
		{"enough", meminfo("1024", "1024", "2048"), mountsWith, 100 * mb, ""},
		{"exactly enough", meminfo("64", "50", "2048"), mountsWith, 100 * mb, ""},
		{"none reserved", meminfo("0", "0", "2048"), mountsWith, 100 * mb,
			"need 100 MB, have 0 MB free (0 of 0 pages of 2048 kB), hugetlbfs mounted: true; reserve 2 MB pages: echo 50 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"},
		{"some in use", meminfo("100", "10", "2048"), mountsWith, 100 * mb,
			"echo 140 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"},
		{"not mounted", meminfo("1024", "1024", "2048"), mountsWithout, 100 * mb,
			"hugetlbfs mounted: false; mount hugetlbfs: mkdir -p /dev/hugepages; mount -t hugetlbfs nodev /dev/hugepages"},
		{"neither", meminfo("0", "0", "2048"), mountsWithout, 4 * mb,
			"echo 2 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages; mount hugetlbfs"},
		{"1 GB pages", meminfo("0", "0", "1048576"), mountsWith, 100 * mb,
			"reserve 1 GB pages: echo 1 > /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"},
		{"no hugetlb", "MemTotal: 8000000 kB\n", mountsWith, mb, "this kernel lacks hugetlb support"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkHugepages([]byte(tt.meminfo), []byte(tt.mounts), tt.need)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("checkHugepages: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("checkHugepages succeeded, want an error containing %q", tt.want)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") ||
				!strings.HasPrefix(msg, "config: hugepages: ") {
				t.Errorf("error %q: want one line starting with \"config: hugepages: \" containing %q", msg, tt.want)
			}
		})
	}
}

// TestCheckHugepagesReal runs the check against this machine's /proc. A
// request for more memory than any machine has must fail with advice;
// whether a small request passes depends on the machine, so only its error
// format is checked.
func TestCheckHugepagesReal(t *testing.T) {
	err := CheckHugepages(1 << 50)
	if err == nil || !strings.Contains(err.Error(), "nr_hugepages") {
		t.Errorf("CheckHugepages(1 PB) = %v, want advice to reserve pages", err)
	}
	if err := CheckHugepages(2 << 20); err != nil && !strings.HasPrefix(err.Error(), "config: hugepages: ") {
		t.Errorf("CheckHugepages(2 MB) error %q lacks the config: hugepages: prefix", err)
	}
}

func TestMempoolBytes(t *testing.T) {
	tests := []struct {
		name string
		in   Mempool
		want uint64
	}{
		// 16383 x (64 header + 2304 mbuf and data room) + ring of 16384
		// pointers and 2 cache lines + 128 lcore caches of 12352 bytes.
		{"default", Mempool{Mbufs: 16383, Cache: 256, DataRoom: 2176}, 16383*2368 + 16384*8 + 128 + 128*12352},
		// data_room 9216: 128 + 9216 = 9344, already a multiple of 64.
		{"jumbo", Mempool{Mbufs: 4095, Cache: 256, DataRoom: 9216}, 4095*(64+9344) + 4096*8 + 128 + 128*12352},
		// 128 + 1000 = 1128 rounds up to 1152.
		{"odd room", Mempool{Mbufs: 1000, Cache: 0, DataRoom: 1000}, 1000*(64+1152) + 1024*8 + 128 + 128*12352},
	}
	for _, tt := range tests {
		if got := tt.in.Bytes(); got != tt.want {
			t.Errorf("%s: Bytes() = %d, want %d", tt.name, got, tt.want)
		}
	}
	c, err := Parse("min.toml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	// Default pool (about 40 MB) + 2 ports x 1 queue x 2048 descriptors x
	// 64 bytes + 64 MB margin, rounded up to 2 MB pages.
	got := c.HugepageBytes()
	if got%(2<<20) != 0 || got < c.Mempool.Bytes()+ealMargin || got > c.Mempool.Bytes()+ealMargin+(4<<20) {
		t.Errorf("HugepageBytes() = %d, want pool %d + margin %d + rings, rounded to 2 MB", got, c.Mempool.Bytes(), ealMargin)
	}
}
