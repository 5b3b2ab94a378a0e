// Package sandbox runs one untrusted program as PID 1 of fresh Linux
// namespaces, with a minimal root file system, loopback-only networking,
// seccomp, Landlock, rlimits and cgroup limits.
//
// The sandbox's init is this very binary, re-executed: every program that
// uses the package must call Main first thing in main (and in TestMain).
// The init receives its config over a socket, builds the sandbox (mounts,
// loopback, rlimits, capabilities, Landlock, seccomp) and execs the program,
// which so becomes PID 1. See the README's "Sandbox" section for the layers.
package sandbox

import (
	"io"
	"time"
)

// Limits bound what one sandboxed process tree may use.
type Limits struct {
	WallTime  time.Duration // killed after this long (default 10s)
	CPUTime   time.Duration // RLIMIT_CPU and cgroup accounting
	Memory    int64         // bytes: cgroup memory limit, else RLIMIT_DATA
	Pids      int           // cgroup pids.max, RLIMIT_NPROC
	FileSize  int64         // RLIMIT_FSIZE, bytes
	OpenFiles int           // RLIMIT_NOFILE
	TmpSize   int64         // size of the private /tmp tmpfs, bytes
}

// Bind makes a host directory visible inside the sandbox.
type Bind struct {
	Host     string // host path
	Target   string // absolute path inside the sandbox
	Writable bool   // default read-only
}

// Overlay makes Lower visible at Target copy-on-write: writes go to a
// throwaway upper layer and never reach Lower.
type Overlay struct {
	Lower  string
	Target string
	Size   int64 // bytes the writes may take, in memory (default 256 MiB)
}

// Spec describes one sandboxed process.
type Spec struct {
	Binary   string    // host path of the executable; appears read-only as /prog
	Path     string    // path to exec inside the sandbox (default "/prog")
	Args     []string  // argv[1:]
	Env      []string  // the complete environment (empty by default)
	Dir      string    // working directory inside (default "/tmp")
	Binds    []Bind    // extra host directories (the builder's GOROOT, workspace)
	Overlays []Overlay // copy-on-write directories (the builder's warm GOCACHE)
	Stdin    io.Reader // copied to the program's stdin; nil: EOF at once
	Limits   Limits
	// SeccompProfile selects the filter: ProfileProgram for user programs,
	// ProfileBuild for the Go toolchain (the same, and no IP sockets: a
	// build needs no network).
	SeccompProfile Profile
}

// Profile names a seccomp filter.
type Profile int

const (
	ProfileProgram Profile = iota
	ProfileBuild
)

// Reason says why a process ended, when it did not simply exit.
type Reason string

const (
	ReasonNone    Reason = ""
	ReasonTimeout Reason = "timeout"
	ReasonOOM     Reason = "oom"
	ReasonKilled  Reason = "killed" // Kill was called or the context ended
	ReasonSignal  Reason = "signal" // died of a signal of its own making
	ReasonCPU     Reason = "cpu"    // RLIMIT_CPU
)

// Result is what is known once the process tree is gone.
type Result struct {
	ExitCode   int    // -1 when killed by a signal
	Signal     string // the signal's name, when killed by one
	Reason     Reason
	Wall       time.Duration // from exec of the program to its end
	CPU        time.Duration // user+system of the whole tree
	PeakMemory int64         // bytes
}
