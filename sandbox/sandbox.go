//go:build linux && !playdoc_init

package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	llsyscall "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// Sandbox starts sandboxed processes. It is safe for concurrent use.
type Sandbox struct {
	log         *slog.Logger
	root        bool
	uid, gid    int // host ids the sandboxed processes run as
	cg          *cgroups
	cpus        float64
	totals      Totals
	landlockABI int
	seccomp     bool
	filters     map[Profile][]byte // assembled seccomp programs (encodeFilter)
	maxWrite    int                // bytes: the largest write to stdout or stderr
	layers      []Layer
	runs        atomic.Uint64
	// outDir holds the output sockets' names while they are connected
	// (see newOutput); made by New, removed by Close.
	outDir  string
	outputs atomic.Uint64

	spawner atomic.Pointer[spawner] // starts the inits; nil once closed
	initMu  sync.Mutex              // held while the spawner is replaced
	warm    *warmPool[*idleInit]    // pre-started inits; nil when none are kept
	// lastLimits are the limits of the latest run (at first the
	// defaults): a pre-started init's cgroup is made with them.
	lastLimits atomic.Pointer[Limits]
	// teardowns counts the finished runs whose cgroups are still being
	// removed (see Process.wait); Close waits for them.
	teardowns sync.WaitGroup
	// deferred counts the teardowns waiting for the starts (releaseLater).
	deferred atomic.Int64
	// starting counts the runs between Start's call and the exec;
	// noStarts, when not nil, is closed when it falls to 0 (waitStarts).
	// lastStart is when the latest start began (zero before the first).
	startMu   sync.Mutex
	starting  int
	noStarts  chan struct{}
	lastStart time.Time
}

// New probes what the kernel and our privileges allow, says loudly what is
// missing, and refuses when the namespaces cannot be built: a program is
// never run unsandboxed. The probe (one real start) ends with ctx, or
// after 20 s.
func New(ctx context.Context, opts Options) (_ *Sandbox, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := opts.Totals.Validate(); err != nil {
		return nil, err
	}
	s := &Sandbox{log: log, cpus: opts.CPUs, root: os.Geteuid() == 0}
	def := DefaultLimits()
	s.lastLimits.Store(&def)
	if s.cpus <= 0 {
		s.cpus = 1
	}
	if s.root {
		s.uid, s.gid = sandboxUID, sandboxUID
	} else {
		s.uid, s.gid = os.Geteuid(), os.Getegid()
	}
	mw, err := maxDatagram(s.root)
	if err != nil {
		return nil, err
	}
	s.maxWrite = mw
	// One folder for the output sockets' names, rather than one made
	// and removed per run on what is often a disk. Its name carries our
	// pid, so that a later server removes it if we are killed (SIGKILL
	// skips Close).
	removeStaleOutDirs(os.TempDir())
	if s.outDir, err = os.MkdirTemp("", fmt.Sprintf("%s%d-", outDirPrefix, os.Getpid())); err != nil {
		return nil, fmt.Errorf("output socket folder: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(s.outDir)
		}
	}()
	if _, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0); err == nil {
		s.seccomp = true
		s.filters = map[Profile][]byte{}
		for _, p := range []Profile{ProfileProgram, ProfileBuild} {
			prog, err := seccompProgram(p, s.maxWrite)
			if err != nil {
				return nil, err
			}
			s.filters[p] = encodeFilter(prog)
		}
	}
	if v, err := llsyscall.LandlockGetABIVersion(); err == nil {
		s.landlockABI = v
	}
	if opts.InitBinary != "" {
		if err := s.UseInitBinary(opts.InitBinary); err != nil {
			return nil, fmt.Errorf("sandbox unavailable, refusing to run programs unsandboxed: %w", err)
		}
	} else {
		sp, err := startSpawner(nil, s.uid, s.gid, s.root)
		if err != nil {
			return nil, fmt.Errorf("sandbox unavailable, refusing to run programs unsandboxed: %w", err)
		}
		s.spawner.Store(sp)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(suffix))
	cg, cgErr := setupCgroups(name)
	if cgErr == nil {
		s.cg = cg
		s.totals = opts.Totals.withDefaults()
		if err := cg.setTotals(s.totals); err != nil {
			log.Warn("sandbox: no total limit for all runs together", "err", err)
		}
	}

	// The probe starts a real init; a healthy host needs well under a
	// second, a stuck one is not waited on for long.
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := s.probe(pctx); err != nil {
		s.teardowns.Wait()
		if s.cg != nil {
			_ = s.cg.destroy()
		}
		s.closeInits()
		return nil, fmt.Errorf("sandbox unavailable, refusing to run programs unsandboxed: %w", err)
	}
	s.layers = s.describe(cgErr)
	warm, warmMax := opts.Warm, opts.WarmMax
	if warm == 0 {
		warm = 2
	}
	if warmMax <= 0 {
		warmMax = 64
	}
	if warm > 0 {
		s.startWarm(warm, max(warm, warmMax))
	}
	for _, l := range s.layers {
		if !l.Active {
			log.Warn("sandbox layer missing", "layer", l.Name, "note", l.Note)
		}
	}
	log.Info("sandbox ready", "root", s.root, "uid", s.uid, "cgroups", s.cgroupVersion(), "landlockABI", s.landlockABI, "seccomp", s.seccomp)
	return s, nil
}

// probe builds a complete sandbox once, without a program, so that New
// fails now rather than every run later.
func (s *Sandbox) probe(ctx context.Context) error {
	p, err := s.start(ctx, Spec{Limits: Limits{WallTime: 10 * time.Second}}, true)
	if err != nil {
		return err
	}
	// The init exits once the sandbox is built; one that has not within
	// the run's wall time is stuck, and New must not wait on it forever.
	var stuck atomic.Bool
	t := time.AfterFunc(p.limits.WallTime, func() {
		stuck.Store(true)
		p.kill(false)
	})
	res, err := p.Wait()
	t.Stop()
	if err != nil {
		return err
	}
	if stuck.Load() {
		return fmt.Errorf("probe init still running after %v", p.limits.WallTime)
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("probe init exited with %d %s", res.ExitCode, res.Signal)
	}
	return nil
}

func (s *Sandbox) cgroupVersion() string {
	switch {
	case s.cg == nil:
		return "none"
	case s.cg.v2:
		return "v2"
	default:
		return "v1"
	}
}

func (s *Sandbox) describe(cgErr error) []Layer {
	uidNote := fmt.Sprintf("host uid %d, uid %d inside", s.uid, sandboxUID)
	if !s.root {
		uidNote = fmt.Sprintf("not root: runs as our own uid %d (mapped to %d inside)", s.uid, sandboxUID)
	}
	layers := []Layer{
		{Name: "user namespace", Active: true, Note: uidNote},
		{Name: "pid namespace", Active: true, Note: "the program is PID 1; killing it kills the tree"},
		{Name: "mount namespace", Active: true, Note: "pivot_root into a tmpfs: /prog, /tmp, /proc, /dev/{null,zero,urandom}"},
		{Name: "network namespace", Active: true, Note: "loopback only"},
		{Name: "ipc, uts, cgroup namespaces", Active: true},
		{Name: "capabilities", Active: true, Note: "all dropped, bounding set empty, securebits locked, no_new_privs"},
		{Name: "seccomp", Active: s.seccomp, Note: "allow-list: unlisted calls fail with ENOSYS; mount, ptrace, bpf, keyctl, io_uring, namespaces, ... with EPERM"},
		{Name: "landlock", Active: s.landlockABI > 0, Note: fmt.Sprintf("file system rules, ABI %d", s.landlockABI)},
		{Name: "rlimits", Active: true, Note: "cpu, nofile, fsize, nproc, core"},
	}
	if !s.seccomp {
		layers[6].Note = "kernel without seccomp filters"
	}
	if s.landlockABI == 0 {
		layers[7].Note = "kernel without Landlock"
	}
	if s.cg == nil {
		layers = append(layers, Layer{Name: "cgroups", Active: false,
			Note: fmt.Sprintf("unavailable (%v): memory capped by RLIMIT_DATA only, processes by RLIMIT_NPROC, no CPU quota", cgErr)})
	} else {
		v := s.cgroupVersion()
		layers = append(layers,
			Layer{Name: "cgroup memory", Active: true, Note: v + ", no swap, OOM detected"},
			Layer{Name: "cgroup pids", Active: true, Note: v},
			Layer{Name: "cgroup cpu", Active: s.cg.cpu, Note: fmt.Sprintf("%s, quota %.2g CPU per run", v, s.cpus)},
		)
	}
	return layers
}

// UseInitBinary makes inits started from now on run path, an init program
// built by BuildInit, instead of this process's executable. Inits started
// earlier keep their program. Errors: path unreadable, memfd unavailable,
// the spawner (see spawner), which runs the same program, not started.
func (s *Sandbox) UseInitBinary(path string) error {
	f, err := openInitBinary(path)
	if err != nil {
		return err
	}
	sp, err := startSpawner(f, s.uid, s.gid, s.root)
	if err != nil {
		return err
	}
	s.initMu.Lock()
	defer s.initMu.Unlock()
	// An init being spawned by the old spawner is waited for.
	if old := s.spawner.Swap(sp); old != nil {
		old.close()
	}
	// The inits ready now run the old program (playdoc re-executed holds
	// ~8 MB, the init program ~1 MB): the keeper starts new ones.
	if s.warm != nil {
		s.warm.flush()
	}
	s.log.Info("sandbox: inits run the init program", "path", path)
	return nil
}

// replaceSpawner starts a new spawner in place of dead, unless another
// caller did already, and returns the current one.
func (s *Sandbox) replaceSpawner(dead *spawner) (*spawner, error) {
	s.initMu.Lock()
	defer s.initMu.Unlock()
	cur := s.spawner.Load()
	if cur == nil {
		return nil, errors.New("start sandbox init: the sandbox is closed")
	}
	if cur != dead {
		return cur, nil
	}
	sp, err := dead.replacement()
	if err != nil {
		return nil, err
	}
	s.spawner.Store(sp)
	dead.close()
	s.log.Warn("sandbox: the spawner died; a new one took over")
	return sp, nil
}

// closeInits ends the spawner: no init starts after it.
func (s *Sandbox) closeInits() {
	s.initMu.Lock()
	defer s.initMu.Unlock()
	if sp := s.spawner.Swap(nil); sp != nil {
		sp.close()
	}
}

// MaxWrite is the largest single write(2) to the program's stdout or
// stderr, in bytes: MaxWrite as root, less without root (see maxDatagram).
// With the seccomp filter a larger write to fd 1 or 2 kills the program
// (ReasonWriteTooLarge); without it, or through another descriptor of the
// same socket, the write fails with EMSGSIZE.
func (s *Sandbox) MaxWrite() int { return s.maxWrite }

// Layers reports the isolation layers and whether each is active.
func (s *Sandbox) Layers() []Layer {
	return append([]Layer(nil), s.layers...)
}

// Close stops the pre-started inits and removes the sandbox's parent
// cgroups and its output sockets' folder. Runs must have ended.
func (s *Sandbox) Close() error {
	s.stopWarm()
	s.closeInits() // the inits already started hold their own copy
	s.teardowns.Wait()
	var errs []error
	if err := os.RemoveAll(s.outDir); err != nil {
		errs = append(errs, err)
	}
	if s.cg != nil {
		if err := s.cg.destroy(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sandbox close: %w", err)
	}
	return nil
}

// DefaultLimits returns what each zero field of Limits stands for: 10 s
// of wall time and of CPU time, 256 MiB of memory, 128 processes, 16 MiB
// per written file, 256 open files, a 32 MiB /tmp, and SIGKILL at once at
// the wall time (QuitGrace 0).
func DefaultLimits() Limits {
	return Limits{
		WallTime:  10 * time.Second,
		CPUTime:   10 * time.Second,
		Memory:    256 << 20,
		Pids:      128,
		FileSize:  16 << 20,
		OpenFiles: 256,
		TmpSize:   32 << 20,
	}
}

// Validate reports every negative limit: zero means the default, and a
// negative one is a mistake that would otherwise pass silently.
func (l Limits) Validate() error {
	var errs []error
	check := func(name string, negative bool) {
		if negative {
			errs = append(errs, fmt.Errorf("%w: Limits.%s is negative", errSpec, name))
		}
	}
	check("WallTime", l.WallTime < 0)
	check("CPUTime", l.CPUTime < 0)
	check("Memory", l.Memory < 0)
	check("Pids", l.Pids < 0)
	check("FileSize", l.FileSize < 0)
	check("OpenFiles", l.OpenFiles < 0)
	check("TmpSize", l.TmpSize < 0)
	check("QuitGrace", l.QuitGrace < 0)
	return errors.Join(errs...)
}

// withDefaults fills the zero fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	orDefault(&l.WallTime, d.WallTime)
	orDefault(&l.CPUTime, d.CPUTime)
	orDefault(&l.Memory, d.Memory)
	orDefault(&l.Pids, d.Pids)
	orDefault(&l.FileSize, d.FileSize)
	orDefault(&l.OpenFiles, d.OpenFiles)
	orDefault(&l.TmpSize, d.TmpSize)
	return l
}

// orDefault sets *v to d when it is zero or less.
func orDefault[T int | int64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// errSpec marks an invalid Spec.
var errSpec = errors.New("invalid sandbox spec")
