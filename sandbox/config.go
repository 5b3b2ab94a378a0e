//go:build linux

package sandbox

// initMarker is argv[0] of the re-executed binary when it must act as the
// sandbox's init. A marker in argv[0] (not an environment variable) keeps the
// init's environment the spawner's fixed one and cannot be set by a
// sandboxed program for the server, which it never starts.
const initMarker = "playdoc-sandbox-init"

// File descriptors the init inherits, after stdin/out/err.
const (
	fdConfig = 3 // SOCK_SEQPACKET (closed once read: 3 is then Spec.ExtraOutput's): two messages, the initBase (encodeBase), then the initConfig (encodeConfig) with the mount descriptors
	fdStatus = 4 // the exec record, then setup errors as text; EOF (close-on-exec) after the record means exec succeeded
)

// maxConfigFds bounds the descriptors sent with a config (binary, binds,
// overlays).
const maxConfigFds = 64

// sandboxUID is the host uid (and gid) of sandboxed processes when we are
// root, and their uid inside the user namespace in every case.
const sandboxUID = 65534

// fdInitBinary is where a pre-started init finds its own program, which it
// is exec'ed from; close_range in the init closes it before the user program
// runs.
const fdInitBinary = fdStatus + 1

// execRecord starts the line the init writes on the status pipe just
// before the exec: "exec UNIXNANO CPU\n", the wall clock at the exec and
// the init's CPU time in ns.
const execRecord = "exec"

// initBase is the part of the sandbox that does not depend on the run: the
// parent sends it first, once the init sits in its run cgroup (for a
// pre-started init, long before the run). With Prebuild the init builds
// the root right away (tmpfs root, /tmp, /dev, /etc, /proc, pivot_root and
// the old root's detach, hostname, loopback), so that only the run's own
// steps are left once the initConfig comes.
type initBase struct {
	// Prebuild asks for the root to be built before the config. Only a
	// parent that sends every mount source as a detached mount (root)
	// asks: an init that opens host paths itself (initSource.Path) must
	// do so before the host's tree is gone.
	Prebuild bool
	Hostname string
	RootSize int64 // bytes
	// TmpSize is the size /tmp is made with, in bytes; a config with
	// another TmpSize resizes it.
	TmpSize  int64
	Loopback bool
}

// initConfig is everything the init needs to run one program in the
// sandbox its initBase described. The parent sends it over the control
// socket once the child sits in its cgroups.
type initConfig struct {
	// Probe asks the init to build the sandbox and exit 0 instead of exec'ing.
	Probe bool

	// Binary is the program's executable, or nil when the program lies in
	// a bind (the builder's go command).
	Binary *initSource
	Path   string
	Args   []string
	Env    []string
	Dir    string

	Binds    []initBind
	Overlays []initOverlay

	TmpSize int64 // bytes

	// Stdout and Stderr index the descriptors sent: the output sockets
	// that become the program's descriptors 1 and 2 (-1: none, a probe).
	Stdout, Stderr int
	// Extra indexes the descriptors sent: Spec.ExtraOutput, which becomes
	// the program's descriptor 3 (-1: none).
	Extra int

	Rlimits  []initRlimit
	Landlock bool
	// Seccomp is the assembled filter, struct sock_filter entries in the
	// native byte order (encodeFilter), nil for none: bytes to copy, not
	// ~400 objects to encode at every run and decode in every init.
	Seccomp []byte
}

// initSource is a host file or directory to mount inside: either a detached
// mount (open_tree clone) made by a privileged parent, already read-only if
// it should be, or a host path the unprivileged init opens itself.
type initSource struct {
	MountFd int // detached mount (index among the descriptors sent), or -1
	Path    string
	Dir     bool

	fd int // the init's own O_PATH descriptor of Path
}

type initBind struct {
	Source   initSource
	Target   string
	Writable bool
}

type initOverlay struct {
	Source initSource
	Target string
	Size   int64
}

type initRlimit struct {
	Resource int
	Cur, Max uint64
}
