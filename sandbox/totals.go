//go:build linux && !playdoc_init

package sandbox

import (
	"fmt"
	"path/filepath"
	"strconv"
)

// withDefaults fills the zero fields of t.
func (t Totals) withDefaults() Totals {
	if t.Memory <= 0 {
		t.Memory = memTotal() / 2
	}
	if t.Pids <= 0 {
		t.Pids = 8192
	}
	return t
}

// memTotal is the machine's memory in bytes (1 GiB when unreadable).
func memTotal() int64 {
	if v := keyedValue("/proc/meminfo", "MemTotal:"); v > 0 {
		return v << 10 // kB
	}
	return 1 << 30
}

// setTotals writes t as the limits of the parent cgroup.
func (c *cgroups) setTotals(t Totals) error {
	var writes [][2]string
	if c.v2 {
		d := c.parents["unified"]
		writes = [][2]string{
			{filepath.Join(d, "memory.max"), strconv.FormatInt(t.Memory, 10)},
			{filepath.Join(d, "pids.max"), strconv.Itoa(t.Pids)},
		}
	} else {
		writes = [][2]string{
			{filepath.Join(c.parents["memory"], "memory.limit_in_bytes"), strconv.FormatInt(t.Memory, 10)},
			{filepath.Join(c.parents["pids"], "pids.max"), strconv.Itoa(t.Pids)},
		}
	}
	if t.CPUWeight > 0 && c.cpu {
		if c.v2 {
			writes = append(writes, [2]string{filepath.Join(c.parents["unified"], "cpu.weight"), strconv.Itoa(t.CPUWeight)})
		} else {
			writes = append(writes, [2]string{filepath.Join(c.parents["cpu"], "cpu.shares"), strconv.Itoa(v1Shares(t.CPUWeight))})
		}
	}
	for _, w := range writes {
		if err := writeFile(w[0], w[1]); err != nil {
			return fmt.Errorf("cgroup total %s: %w", w[0], err)
		}
	}
	return nil
}

// v1Shares is v2's CPU weight w (1-10000, default 100) as v1's cpu.shares
// (2-262144, default 1024), in proportion to the defaults.
func v1Shares(w int) int {
	return min(max(w*1024/100, 2), 262144)
}

// usage reads the parent cgroup's current memory and process count.
func (c *cgroups) usage() (mem int64, pids int) {
	if c.v2 {
		d := c.parents["unified"]
		return readInt(filepath.Join(d, "memory.current")), int(readInt(filepath.Join(d, "pids.current")))
	}
	// v1's usage_in_bytes counts the page cache too; the OOM killer acts
	// on the same figure, so admission reads it as well.
	return readInt(filepath.Join(c.parents["memory"], "memory.usage_in_bytes")),
		int(readInt(filepath.Join(c.parents["pids"], "pids.current")))
}

// Usage reports what all runs take now against the sandbox's totals.
func (s *Sandbox) Usage() Usage {
	if s.cg == nil {
		return Usage{}
	}
	mem, pids := s.cg.usage()
	return Usage{Memory: mem, MemoryMax: s.totals.Memory, Pids: pids, PidsMax: s.totals.Pids, Known: true}
}
