package config

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// UsableCPUs returns, in increasing order, the CPUs this process may run
// on: its affinity mask (sched_getaffinity), which taskset and cpusets
// narrow.
func UsableCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("config: sched_getaffinity: %w", err)
	}
	var cpus []int
	for i := 0; i <= MaxCPU; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus, nil
}

// CheckCPUs checks that every lcore is a CPU that usable reports. Load
// passes UsableCPUs; tests pass a fixed list.
func (c *Config) CheckCPUs(usable func() ([]int, error)) error {
	cpus, err := usable()
	if err != nil {
		return err
	}
	ok := make(map[int]bool, len(cpus))
	for _, cpu := range cpus {
		ok[cpu] = true
	}
	for _, l := range c.Lcores {
		if !ok[l] {
			return fmt.Errorf("config: %s: lcores: CPU %d does not exist or this process may not run on it (usable: %s); pick lcores from the usable CPUs or widen taskset/cpuset",
				c.Name, l, FormatCPUList(cpus))
		}
	}
	return nil
}

// FormatCPUList writes sorted CPUs as a Linux CPU list: "0-3,6".
func FormatCPUList(cpus []int) string {
	if len(cpus) == 0 {
		return "none"
	}
	var sb strings.Builder
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(cpus[i]))
		if j > i {
			sb.WriteByte('-')
			sb.WriteString(strconv.Itoa(cpus[j]))
		}
		i = j + 1
	}
	return sb.String()
}
