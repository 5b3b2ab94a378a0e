//go:build linux && !playdoc_init

package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroups is the sandbox's share of the cgroup hierarchy: one parent
// directory per controller (v1) or one parent in the unified tree (v2),
// named after this server process so a later server can tell our leftovers
// from a live neighbour's runs.
type cgroups struct {
	v2 bool
	// parents maps a controller ("memory", "pids", "cpu", "cpuacct"; for v2
	// the single key "unified") to this sandbox's parent directory.
	parents map[string]string
	// cpu reports whether runs get a CPU quota (v1: the cpu controller is
	// mounted; v2: it could be enabled in our subtree).
	cpu bool
	// memsw (v1) reports whether the memory controller counts swap
	// (memory.memsw.*, with the kernel's swap accounting), looked up once
	// rather than at every run.
	memsw bool
}

// runCgroup is one run's cgroup, in every controller.
type runCgroup struct {
	v2   bool
	dirs map[string]string // controller → directory
	peak *os.File          // v2: memory.peak, reset at the exec (see resetPeak)
	// The limits written (setLimits): bytes, processes.
	memory int64
	pids   int
	// idle: rc has the low CPU weight of a pre-started init (setIdle).
	idle bool
}

const cgroupBase = "playdoc"

// v1Controllers are the v1 controllers we use; memory and pids are required.
var v1Controllers = []string{"memory", "pids", "cpu", "cpuacct"}

// setupCgroups finds usable controllers (v2 first, when it has memory and
// pids, else v1), removes leftovers of dead servers and creates our parent.
func setupCgroups(name string) (*cgroups, error) {
	mounts, err := cgroupMounts()
	if err != nil {
		return nil, err
	}
	if m, ok := mounts["unified"]; ok {
		ctrls := controllers(m)
		if ctrls["memory"] && ctrls["pids"] {
			return setupV2(m, name)
		}
	}
	cg := &cgroups{parents: map[string]string{}}
	for _, c := range v1Controllers {
		m, ok := mounts[c]
		if !ok {
			if c == "memory" || c == "pids" {
				return nil, fmt.Errorf("cgroup v1 controller %s not mounted and v2 has no memory+pids controllers", c)
			}
			continue
		}
		_, dir, err := makeParent(m, name, false)
		if err != nil {
			return nil, err
		}
		cg.parents[c] = dir
	}
	_, cg.cpu = cg.parents["cpu"]
	_, err = os.Stat(filepath.Join(cg.parents["memory"], "memory.memsw.limit_in_bytes"))
	cg.memsw = err == nil
	return cg, nil
}

// makeParent creates <mount>/playdoc, removes the leftovers of dead servers
// in it, and creates our parent <mount>/playdoc/<name>.
func makeParent(mount, name string, v2 bool) (base, dir string, err error) {
	base = filepath.Join(mount, cgroupBase)
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", "", fmt.Errorf("create cgroup %s: %w", base, err)
	}
	removeStale(base, v2)
	dir = filepath.Join(base, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("create cgroup %s: %w", dir, err)
	}
	return base, dir, nil
}

// cgroupMounts maps controller names (and "unified" for v2) to mount points.
func cgroupMounts() (map[string]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint opts... - fstype source superopts
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || len(fields) < sep+4 {
			continue
		}
		mp, fstype, super := fields[4], fields[sep+1], fields[sep+3]
		switch fstype {
		case "cgroup2":
			if _, ok := out["unified"]; !ok {
				out["unified"] = mp
			}
		case "cgroup":
			for _, o := range strings.Split(super, ",") {
				for _, c := range v1Controllers {
					if o == c {
						if _, ok := out[c]; !ok {
							out[c] = mp
						}
					}
				}
			}
		}
	}
	return out, sc.Err()
}

// removeStale deletes the cgroups of servers that are gone (named
// "<pid>-<suffix>"), killing whatever they left running.
func removeStale(base string, v2 bool) {
	ents, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		pid, _, ok := strings.Cut(e.Name(), "-")
		if !ok {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); err == nil {
			continue
		}
		removeTree(filepath.Join(base, e.Name()), v2)
	}
}

func removeTree(dir string, v2 bool) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() {
			removeTree(filepath.Join(dir, e.Name()), v2)
		}
	}
	killAndRemove(dir, v2)
}

// newRun creates the run's cgroups and writes its limits.
func (c *cgroups) newRun(name string, l Limits, cpus float64) (*runCgroup, error) {
	rc := &runCgroup{v2: c.v2, dirs: map[string]string{}}
	for ctrl, parent := range c.parents {
		dir := filepath.Join(parent, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			rc.remove()
			return nil, fmt.Errorf("create cgroup: %w", err)
		}
		rc.dirs[ctrl] = dir
	}
	if err := c.setLimits(rc, l, cpus, true); err != nil {
		rc.remove()
		return nil, err
	}
	return rc, nil
}

// setLimits writes l's memory and process limits and the CPU quota of
// cpus CPUs to rc; fresh says rc was just made (every limit unset), else
// the limits it had are replaced.
func (c *cgroups) setLimits(rc *runCgroup, l Limits, cpus float64, fresh bool) error {
	// A new cgroup's period is the kernel's default, 100 ms (v1's
	// cpu.cfs_period_us, v2's second field of cpu.max): v1 needs only the
	// quota written.
	const period = 100000
	quota := int(cpus * float64(period))
	var writes [][2]string
	if c.v2 {
		d := rc.dirs["unified"]
		writes = [][2]string{
			{filepath.Join(d, "memory.max"), strconv.FormatInt(l.Memory, 10)},
			{filepath.Join(d, "pids.max"), strconv.Itoa(l.Pids)},
		}
		// Present only with swap accounting.
		if _, err := os.Stat(filepath.Join(d, "memory.swap.max")); err == nil {
			writes = append(writes, [2]string{filepath.Join(d, "memory.swap.max"), "0"})
		}
		if _, err := os.Stat(filepath.Join(d, "cpu.max")); err == nil {
			writes = append(writes, [2]string{filepath.Join(d, "cpu.max"), fmt.Sprintf("%d %d", quota, period)})
		}
	} else {
		m := rc.dirs["memory"]
		// v1 refuses a memory limit above the memory+swap one: an old
		// memsw limit is lifted first.
		if c.memsw && !fresh {
			writes = append(writes, [2]string{filepath.Join(m, "memory.memsw.limit_in_bytes"), "-1"})
		}
		writes = append(writes,
			[2]string{filepath.Join(m, "memory.limit_in_bytes"), strconv.FormatInt(l.Memory, 10)},
			[2]string{filepath.Join(rc.dirs["pids"], "pids.max"), strconv.Itoa(l.Pids)},
		)
		if c.memsw {
			writes = append(writes, [2]string{filepath.Join(m, "memory.memsw.limit_in_bytes"), strconv.FormatInt(l.Memory, 10)})
		}
		if d, ok := rc.dirs["cpu"]; ok {
			writes = append(writes, [2]string{filepath.Join(d, "cpu.cfs_quota_us"), strconv.Itoa(quota)})
		}
	}
	for _, w := range writes {
		if err := writeFile(w[0], w[1]); err != nil {
			return fmt.Errorf("cgroup limit %s: %w", w[0], err)
		}
	}
	rc.memory, rc.pids = l.Memory, l.Pids
	return nil
}

// Run cgroups' CPU weights: a pre-started init's start-up yields to the
// runs (see prepareInit); a run has the kernel's default weight. v1's
// cpu.shares go from 2 to 262144 (default 1024), v2's cpu.weight from 1
// to 10000 (default 100).
const (
	v1SharesIdle, v1SharesRun = "2", "1024"
	v2WeightIdle, v2WeightRun = "1", "100"
)

// setIdle gives rc the CPU weight of a pre-started init waiting for its
// run (idle) or of a run. Without a cpu controller it does nothing.
func (c *cgroups) setIdle(rc *runCgroup, idle bool) error {
	if !c.cpu {
		return nil
	}
	var path, w string
	if c.v2 {
		path, w = filepath.Join(rc.dirs["unified"], "cpu.weight"), v2WeightRun
		if idle {
			w = v2WeightIdle
		}
	} else {
		path, w = filepath.Join(rc.dirs["cpu"], "cpu.shares"), v1SharesRun
		if idle {
			w = v1SharesIdle
		}
	}
	if err := writeFile(path, w); err != nil {
		return fmt.Errorf("cgroup CPU weight: %w", err)
	}
	rc.idle = idle
	return nil
}

// hasLimits reports whether rc's limits are l's.
func (rc *runCgroup) hasLimits(l Limits) bool {
	return rc.memory == l.Memory && rc.pids == l.Pids
}

// attach moves pid (all its threads) into every controller of the run.
func (rc *runCgroup) attach(pid int) error {
	for _, d := range rc.dirs {
		if err := writeFile(filepath.Join(d, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("attach to cgroup %s: %w", d, err)
		}
	}
	return nil
}

// resetPeak starts the memory peak afresh from the current usage (at the
// exec: the init's memory is gone). cgroup v1 resets on a write to
// memory.max_usage_in_bytes; v2 (Linux 6.12+) for reads through the same
// descriptor of memory.peak, which is kept. Without either, the peak
// stays the tree's whole one.
func (rc *runCgroup) resetPeak() {
	if rc.v2 {
		f, err := os.OpenFile(filepath.Join(rc.dirs["unified"], "memory.peak"), os.O_RDWR, 0)
		if err != nil {
			return
		}
		if _, err := f.WriteString("reset\n"); err != nil {
			f.Close()
			return
		}
		rc.peak = f
		return
	}
	_ = writeFile(filepath.Join(rc.dirs["memory"], "memory.max_usage_in_bytes"), "0")
}

// cgroupStats is what the run's cgroups measured.
type cgroupStats struct {
	OOMKilled bool
	Peak      int64
	CPU       time.Duration // 0 when unknown
}

func (rc *runCgroup) stats() cgroupStats {
	var s cgroupStats
	if rc.v2 {
		d := rc.dirs["unified"]
		s.OOMKilled = keyedValue(filepath.Join(d, "memory.events"), "oom_kill") > 0
		s.Peak = readInt(filepath.Join(d, "memory.peak"))
		if rc.peak != nil {
			buf := make([]byte, 32)
			if n, err := rc.peak.ReadAt(buf, 0); n > 0 && (err == nil || err == io.EOF) {
				if v, err := strconv.ParseInt(strings.TrimSpace(string(buf[:n])), 10, 64); err == nil {
					s.Peak = v
				}
			}
		}
		if us := keyedValue(filepath.Join(d, "cpu.stat"), "usage_usec"); us >= 0 {
			s.CPU = time.Duration(us) * time.Microsecond
		}
		return s
	}
	m := rc.dirs["memory"]
	s.OOMKilled = keyedValue(filepath.Join(m, "memory.oom_control"), "oom_kill") > 0
	s.Peak = readInt(filepath.Join(m, "memory.max_usage_in_bytes"))
	if d, ok := rc.dirs["cpuacct"]; ok {
		if ns := readInt(filepath.Join(d, "cpuacct.usage")); ns >= 0 {
			s.CPU = time.Duration(ns)
		}
	}
	return s
}

// cpu is the CPU time the run's tree has used so far, 0 when unknown: the
// one figure of stats wanted at the exec.
func (rc *runCgroup) cpu() time.Duration {
	if rc.v2 {
		if us := keyedValue(filepath.Join(rc.dirs["unified"], "cpu.stat"), "usage_usec"); us >= 0 {
			return time.Duration(us) * time.Microsecond
		}
		return 0
	}
	if d, ok := rc.dirs["cpuacct"]; ok {
		if ns := readInt(filepath.Join(d, "cpuacct.usage")); ns >= 0 {
			return time.Duration(ns)
		}
	}
	return 0
}

// remove kills anything still in the run's cgroups and deletes them.
func (rc *runCgroup) remove() error {
	var errs []error
	if rc.peak != nil {
		rc.peak.Close()
		rc.peak = nil
	}
	for _, d := range rc.dirs {
		if err := killAndRemove(d, rc.v2); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// killAndRemove deletes the cgroup dir, killing what it still holds. A
// run's cgroup is empty by the time it is removed (the kernel empties a
// pid namespace before its PID 1 can be reaped): the first rmdir does,
// and the tasks are looked for only when it fails.
func killAndRemove(dir string, v2 bool) error {
	var err error
	// rmdir fails with EBUSY until the killed tasks are really gone.
	for i := 0; i < 200; i++ {
		err = os.Remove(dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if v2 {
			_ = writeFile(filepath.Join(dir, "cgroup.kill"), "1")
		}
		for _, pid := range readPids(filepath.Join(dir, "cgroup.procs")) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("remove cgroup %s: %w", dir, err)
}

func readPids(path string) []int {
	b, err := readFile(path)
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}

func readInt(path string) int64 {
	b, err := readFile(path)
	if err != nil {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// keyedValue reads the number after key in "key value [unit]" lines
// (memory.events, cpu.stat, oom_control; /proc/meminfo's "MemTotal:
// 24684084 kB", whose unit it leaves to the caller); -1 when the file or
// the key is missing or the value is not a number.
func keyedValue(path, key string) int64 {
	b, err := readFile(path)
	if err != nil {
		return -1
	}
	return parseKeyed(string(b), key)
}

// parseKeyed is keyedValue's parse of the file's content.
func parseKeyed(content, key string) int64 {
	for _, line := range strings.Split(content, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == key {
			if n, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				return n
			}
		}
	}
	return -1
}

// destroy removes this sandbox's parent cgroups (at server shutdown).
func (c *cgroups) destroy() error {
	var errs []error
	for _, d := range c.parents {
		if err := killAndRemove(d, c.v2); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
