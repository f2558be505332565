package config

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Sizes used by the memory estimate, from DPDK 22.11 on 64-bit Linux.
const (
	cacheLine = 64
	// mbufStructSize is sizeof(struct rte_mbuf).
	mbufStructSize = 128
	// mempoolObjHeader is struct rte_mempool_objhdr rounded up to a cache
	// line, as rte_mempool lays objects out.
	mempoolObjHeader = 64
	// mempoolCacheBytes bounds one struct rte_mempool_cache (3 x 512 object
	// pointers); the pool holds one per possible lcore.
	mempoolCacheBytes = 64 + 3*MaxMbufCache*8
	// descBytes bounds the memory of one RX or TX descriptor with its
	// software ring entry.
	descBytes = 64
	// ealMargin covers EAL's own memzones, the ethdev data and the malloc
	// heap. It is a margin, not a measurement.
	ealMargin = 64 << 20
	// hugepage2M is the page size HugepageBytes rounds to.
	hugepage2M = 2 << 20
)

// Bytes returns the memory the packet pool takes: every mbuf (object
// header, struct rte_mbuf and data room, cache-line aligned), the pool's
// ring of free objects and its per-lcore caches.
func (m Mempool) Bytes() uint64 {
	obj := uint64(mempoolObjHeader + roundUp(mbufStructSize+m.DataRoom, cacheLine))
	ring := uint64(8*nextPow2(m.Mbufs+1) + 2*cacheLine)
	caches := uint64(MaxLcores * mempoolCacheBytes)
	return uint64(m.Mbufs)*obj + ring + caches
}

// HugepageBytes estimates the hugepage memory flexcp needs with this
// configuration: the packet pool, every queue's descriptor rings and a
// fixed margin for EAL, rounded up to whole 2 MB pages.
func (c *Config) HugepageBytes() uint64 {
	n := c.Mempool.Bytes() + ealMargin
	for _, p := range c.Ports {
		n += uint64(p.Queues * (p.RxDesc + p.TxDesc) * descBytes)
	}
	return uint64(roundUp(int(n), hugepage2M))
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }

func nextPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// CheckHugepages checks that the kernel has at least needBytes of free
// hugepages of its default size and that a hugetlbfs is mounted, reading
// /proc/meminfo and /proc/mounts. The error says what to run.
func CheckHugepages(needBytes uint64) error {
	meminfo, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return fmt.Errorf("config: hugepages: %w", err)
	}
	mounts, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return fmt.Errorf("config: hugepages: %w", err)
	}
	return checkHugepages(meminfo, mounts, needBytes)
}

// checkHugepages is CheckHugepages on given file contents.
func checkHugepages(meminfo, mounts []byte, need uint64) error {
	var total, free, sizeKB uint64
	var haveSize bool
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "HugePages_Total:":
			total = v
		case "HugePages_Free:":
			free = v
		case "Hugepagesize:":
			sizeKB, haveSize = v, true
		}
	}
	if !haveSize || sizeKB == 0 {
		return fmt.Errorf("config: hugepages: /proc/meminfo has no Hugepagesize; this kernel lacks hugetlb support (CONFIG_HUGETLBFS), or pass --no-huge in eal for a test run")
	}
	mounted := false
	sc = bufio.NewScanner(bytes.NewReader(mounts))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 3 && f[2] == "hugetlbfs" {
			mounted = true
		}
	}
	size := sizeKB << 10
	var todo []string
	if free*size < need {
		missing := (need - free*size + size - 1) / size
		todo = append(todo, fmt.Sprintf("reserve %s pages: echo %d > /sys/kernel/mm/hugepages/hugepages-%dkB/nr_hugepages",
			humanBytes(size), total+missing, sizeKB))
	}
	if !mounted {
		todo = append(todo, "mount hugetlbfs: mkdir -p /dev/hugepages; mount -t hugetlbfs nodev /dev/hugepages")
	}
	if len(todo) == 0 {
		return nil
	}
	return fmt.Errorf("config: hugepages: need %s, have %s free (%d of %d pages of %d kB), hugetlbfs mounted: %t; %s",
		humanBytes(need), humanBytes(free*size), free, total, sizeKB, mounted, strings.Join(todo, "; "))
}

// humanBytes writes n in MB or GB (powers of 1024).
func humanBytes(n uint64) string {
	if n >= 1<<30 && n%(1<<30) == 0 {
		return fmt.Sprintf("%d GB", n>>30)
	}
	return fmt.Sprintf("%d MB", (n+(1<<20)-1)>>20)
}
