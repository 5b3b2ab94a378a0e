//go:build linux && !playdoc_init

package sandbox

import (
	"time"

	"golang.org/x/sys/unix"
)

// rlimits are per process; the cgroups bound the tree. RLIMIT_AS is useless
// for Go (a hello world reserves ~700 MB of address space): without a memory
// cgroup, RLIMIT_DATA caps what a process can really commit.
func (s *Sandbox) rlimits(l Limits) []initRlimit {
	cpu := uint64((l.CPUTime + time.Second - 1) / time.Second)
	nproc := uint64(l.Pids)
	if s.cg != nil {
		// RLIMIT_NPROC counts threads, per user and namespace; the pids
		// cgroup is the real bound, this is a backstop.
		nproc = uint64(4 * l.Pids)
	}
	rl := []initRlimit{
		{Resource: unix.RLIMIT_CPU, Cur: cpu, Max: cpu},
		{Resource: unix.RLIMIT_NOFILE, Cur: uint64(l.OpenFiles), Max: uint64(l.OpenFiles)},
		{Resource: unix.RLIMIT_FSIZE, Cur: uint64(l.FileSize), Max: uint64(l.FileSize)},
		{Resource: unix.RLIMIT_NPROC, Cur: nproc, Max: nproc},
		{Resource: unix.RLIMIT_CORE, Cur: 0, Max: 0},
		{Resource: unix.RLIMIT_MEMLOCK, Cur: 64 << 10, Max: 64 << 10},
		{Resource: unix.RLIMIT_MSGQUEUE, Cur: 0, Max: 0},
	}
	if s.cg == nil {
		// The Go runtime maps its 64 MiB heap arena index writable at
		// start (untouched, but counted by RLIMIT_DATA): on top of that,
		// the program may commit about Limits.Memory.
		data := uint64(l.Memory) + goArenaIndex
		rl = append(rl, initRlimit{Resource: unix.RLIMIT_DATA, Cur: data, Max: data})
	}
	return rl
}

// goArenaIndex is what a Go program's RLIMIT_DATA needs beyond its heap.
const goArenaIndex = 64 << 20
