// Package sandbox runs one untrusted program as PID 1 of fresh Linux
// namespaces, with a minimal root file system, loopback-only networking,
// seccomp, Landlock, rlimits and cgroup limits.
//
// The sandbox's init is this very binary, re-executed: every program that
// uses the package must call Main first thing in main (and in TestMain).
// The init receives its config over a socket, builds the sandbox (mounts,
// loopback, rlimits, capabilities, Landlock, seccomp) and execs the program,
// which so becomes PID 1. The inits are cloned by a small helper process of
// ours, the spawner (the same program, started once), so that the server's
// large address space is never forked. See the README's "Sandbox" section
// for the layers.
//
// The sandbox needs Linux: on other systems New returns an error wrapping
// errors.ErrUnsupported and Main does nothing.
package sandbox

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"
)

// Options configure a Sandbox.
type Options struct {
	// Logger gets the layers' report and problems (default slog.Default).
	// A run keeps nothing on disk: its root, /tmp and overlay layers are
	// tmpfs mounts that exist only in the run's own mount namespace.
	Logger *slog.Logger
	// CPUs is the cgroup CPU quota of one run, in CPUs (default 1).
	CPUs float64
	// Warm is how many sandbox inits are kept started ahead of need at
	// least, which takes their start-up off a run's latency (default 2;
	// negative: none). The pool grows toward the most runs started in
	// one second of the last minute, up to WarmMax, while the runs'
	// Totals have room, and shrinks back once such bursts stop.
	Warm int
	// WarmMax bounds the pre-started inits (default 64; an idle one
	// holds ~1.5 MB and 5 threads).
	WarmMax int
	// Totals bound all runs together (Totals' defaults), enforced on the
	// sandbox's parent cgroup.
	Totals Totals
	// InitBinary is the init program, built by BuildInit. Empty: this
	// process's own executable, which must call Main first thing (every
	// run then pays its whole package initialisation).
	InitBinary string
}

// Layer is one isolation mechanism and whether it is in force.
type Layer struct {
	Name   string `json:"name"`
	Active bool   `json:"active"`
	Note   string `json:"note,omitempty"`
}

// Limits bound what one sandboxed process tree may use. A zero field
// stands for DefaultLimits' value; a negative one is an error (Validate).
type Limits struct {
	WallTime  time.Duration // killed after this long
	CPUTime   time.Duration // RLIMIT_CPU and cgroup accounting
	Memory    int64         // bytes: cgroup memory limit, else RLIMIT_DATA
	Pids      int           // cgroup pids.max, RLIMIT_NPROC
	FileSize  int64         // RLIMIT_FSIZE, bytes
	OpenFiles int           // RLIMIT_NOFILE
	TmpSize   int64         // size of the private /tmp tmpfs, bytes
	// QuitGrace, when positive, makes the wall timeout send SIGQUIT to
	// the program first and SIGKILL only QuitGrace later (or never, if it
	// exits first): a Go program then writes every goroutine's stack to
	// stderr and exits with status 2. The run still ends ReasonTimeout.
	// Zero: SIGKILL at once. Only for Go programs: SIGQUIT to another
	// PID 1 without a handler is ignored, which costs QuitGrace.
	QuitGrace time.Duration
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
	// ExtraOutput, if set, becomes the program's descriptor 3 (a dup of
	// it, sent to the init like the output sockets): an extra channel out
	// of the sandbox for data that is not output, such as the execution
	// trace of a traced run. It is typically the write end of a pipe whose
	// read end the caller drains, bounded, until EOF (when the program's
	// tree is gone); the caller closes its own copy once Start returns.
	// The program's limits apply to what it writes there as to anything.
	ExtraOutput *os.File
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
	// ReasonWriteTooLarge: a single write to stdout or stderr was larger
	// than Sandbox.MaxWrite and the seccomp filter killed the process.
	ReasonWriteTooLarge Reason = "write-too-large"
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

// InitBuild says how BuildInit compiles the init program.
type InitBuild struct {
	// Go is the go command (default: "go" on PATH).
	Go string
	// Dir keeps the binaries, one per source and toolchain (required).
	Dir string
	// ModCache is the module cache the build reads and fills (default: the
	// go command's own).
	ModCache string
	// Proxy is GOPROXY for modules missing from ModCache. Default: the host
	// module cache as a file:// proxy, then proxy.golang.org with the
	// checksum database.
	Proxy string
}

// Totals bound what all runs of one Sandbox may take together. The kernel
// enforces them on the sandbox's parent cgroup: one greedy program meets
// its own run's limits first, and many together meet these, where the
// kernel's OOM killer picks the largest run, not the sleeping ones.
type Totals struct {
	// Memory is bytes for all runs together (default: half the machine's
	// memory, /proc/meminfo MemTotal).
	Memory int64
	// Pids is processes and threads for all runs together (default 8192).
	Pids int
	// CPUWeight is the CPU weight of all runs together against the
	// cgroups beside the sandbox's parent (other sandboxes of this and
	// other playdoc servers on the host), on cgroup v2's scale: 1 to
	// 10000, 0 for the kernel's default 100. On cgroup v1 it is written
	// as cpu.shares, 100 being v1's default 1024 (the kernel's
	// Documentation/admin-guide/cgroup-v2.rst, "Weights"). A weight
	// divides the CPU only while cgroups compete for it; it caps nothing.
	// Without a cpu controller it is ignored.
	CPUWeight int
}

// Validate reports a CPUWeight outside 0 to 10000 and negative totals.
func (t Totals) Validate() error {
	var errs []error
	if t.Memory < 0 {
		errs = append(errs, errors.New("sandbox totals: Memory is negative"))
	}
	if t.Pids < 0 {
		errs = append(errs, errors.New("sandbox totals: Pids is negative"))
	}
	if t.CPUWeight < 0 || t.CPUWeight > 10000 {
		errs = append(errs, fmt.Errorf("sandbox totals: CPUWeight %d is outside 0 (the default) to 10000", t.CPUWeight))
	}
	return errors.Join(errs...)
}

// Usage is what all runs of a Sandbox take now, against its Totals.
type Usage struct {
	Memory, MemoryMax int64 // bytes
	Pids, PidsMax     int
	// Known is false without cgroups: then nothing is measured and
	// admission can only count runs.
	Known bool
}

// Room reports whether another run may start: usage below 90% of each
// total. Without measurements it always says yes.
func (u Usage) Room() bool {
	if !u.Known {
		return true
	}
	return u.Memory < u.MemoryMax/10*9 && u.Pids < u.PidsMax/10*9
}

func (u Usage) String() string {
	if !u.Known {
		return "unmeasured"
	}
	return strings.Join([]string{
		fmt.Sprintf("memory %d/%d MiB", u.Memory>>20, u.MemoryMax>>20),
		fmt.Sprintf("pids %d/%d", u.Pids, u.PidsMax),
	}, ", ")
}
