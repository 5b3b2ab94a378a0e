//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// newRootMount is where the init builds the new root before pivot_root. It
// lives in the init's private mount namespace, so covering the host's /tmp
// there hides nothing from anyone else; every host source is reached through
// a descriptor: a detached mount sent by the parent, or one the init opened
// before covering /tmp.
const newRootMount = "/tmp"

// runInit is the init's whole job: read the base and build what it can of
// the root, read the config, finish the root, lock the process down and
// exec the program. It returns only on failure (or, for a probe, after a
// successful setup).
func runInit() error {
	unix.CloseOnExec(fdStatus)
	base, err := readBase()
	if err != nil {
		return err
	}
	// The parent sends the base once we sit in the run's cgroups: a fresh
	// cgroup namespace now makes that cgroup our "/".
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return fmt.Errorf("unshare cgroup namespace: %w", err)
	}
	// A pre-started init builds the root now, while it waits: the mount
	// work (and the old root's detach, which waits for an RCU grace
	// period) is then off the run's critical path.
	if base.Prebuild {
		if err := prebuildRoot(base); err != nil {
			return err
		}
		if err := setupUTSNet(base); err != nil {
			return err
		}
	}
	cfg, err := readConfig()
	if err != nil {
		return err
	}

	// The output sockets become the program's stdout and stderr (without
	// close-on-exec, unlike the originals).
	for i, fd := range []int{cfg.Stdout, cfg.Stderr} {
		if fd < 0 {
			continue
		}
		if err := unix.Dup3(fd, 1+i, 0); err != nil {
			return fmt.Errorf("dup output socket: %w", err)
		}
		unix.Close(fd)
	}
	// Spec.ExtraOutput is the program's descriptor 3 (fdConfig's number,
	// closed by readConfig), also without close-on-exec.
	if cfg.Extra >= 0 {
		if err := unix.Dup3(cfg.Extra, 3, 0); err != nil {
			return fmt.Errorf("dup extra output: %w", err)
		}
		unix.Close(cfg.Extra)
	}
	if base.Prebuild {
		if err := finishRoot(base, cfg); err != nil {
			return err
		}
	} else {
		if err := buildRoot(base, cfg); err != nil {
			return err
		}
		if err := setupUTSNet(base); err != nil {
			return err
		}
	}
	dir := cfg.Dir
	if err := unix.Chdir(dir); err != nil {
		return fmt.Errorf("chdir %s: %w", dir, err)
	}
	for _, r := range cfg.Rlimits {
		lim := unix.Rlimit{Cur: r.Cur, Max: r.Max}
		if err := unix.Setrlimit(r.Resource, &lim); err != nil {
			return fmt.Errorf("setrlimit %d: %w", r.Resource, err)
		}
	}
	// Nothing but stdio (and the close-on-exec status pipe) may reach the
	// program: the mount and O_PATH descriptors of host directories would be
	// an escape hatch. Go's own descriptors are close-on-exec already.
	if err := unix.CloseRange(fdStatus+1, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("close_range: %w", err)
	}
	if err := dropCapabilities(); err != nil {
		return err
	}
	// no_new_privs, Landlock and seccomp are per thread here: this locked
	// thread is the one that execs, and the exec ends all the others.
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if cfg.Landlock {
		if err := landlockPaths(cfg); err != nil {
			return err
		}
	}
	if cfg.Seccomp != nil {
		prog, err := decodeFilter(cfg.Seccomp)
		if err != nil {
			return err
		}
		if err := loadSeccomp(prog); err != nil {
			return err
		}
	}
	if cfg.Probe {
		return nil
	}
	argv := append([]string{cfg.Path}, cfg.Args...)
	env := cfg.Env
	if env == nil {
		env = []string{}
	}
	// The exec point, for the program's own figures: the time, and the
	// CPU this process used before it.
	rec := fmt.Sprintf("%s %d %d\n", execRecord, time.Now().UnixNano(), ownCPU())
	if _, err := unix.Write(fdStatus, []byte(rec)); err != nil {
		return fmt.Errorf("report the exec: %w", err)
	}
	err = unix.Exec(cfg.Path, argv, env)
	return fmt.Errorf("exec %s: %w", cfg.Path, err)
}

// setupUTSNet sets the hostname and brings the loopback interface up, as
// base says.
func setupUTSNet(base *initBase) error {
	if err := unix.Sethostname([]byte(base.Hostname)); err != nil {
		return fmt.Errorf("sethostname: %w", err)
	}
	if base.Loopback {
		if err := loopbackUp(); err != nil {
			return err
		}
	}
	return nil
}

// ownCPU is the user and system time of this process so far, in ns.
func ownCPU() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// readBase receives the base message, the first on the control socket.
// Until it arrives the init is idle (kept warm by the parent); an empty
// read means the parent no longer needs it.
func readBase() (*initBase, error) {
	buf := make([]byte, 4096)
	n, _, err := recvControl(buf, nil)
	if err != nil {
		return nil, fmt.Errorf("read base: %w", err)
	}
	return decodeBase(buf[:n])
}

// recvControl reads one message from the control socket into buf and
// its descriptors' control data into oob (received close-on-exec). An
// empty read (the parent closed its end) ends the init; a message cut
// short is an error.
func recvControl(buf, oob []byte) (n, oobn int, err error) {
	var flags int
	for {
		n, oobn, flags, _, err = unix.Recvmsg(fdConfig, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return 0, 0, err
	}
	if n == 0 {
		os.Exit(0)
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		return 0, 0, errors.New("message truncated")
	}
	return n, oobn, nil
}

// readConfig receives the config message and its descriptors, the second
// on the control socket, which it then closes. Until it arrives the init
// waits (kept warm by the parent); an empty read means the parent no
// longer needs it.
func readConfig() (*initConfig, error) {
	buf := make([]byte, 1<<20)
	oob := make([]byte, unix.CmsgSpace(maxConfigFds*4))
	n, oobn, err := recvControl(buf, oob)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	unix.Close(fdConfig)
	var fds []int
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return nil, fmt.Errorf("read config descriptors: %w", err)
		}
		for i := range msgs {
			got, err := unix.ParseUnixRights(&msgs[i])
			if err != nil {
				return nil, fmt.Errorf("read config descriptors: %w", err)
			}
			fds = append(fds, got...)
		}
	}
	cfg, err := decodeConfig(buf[:n])
	if err != nil {
		return nil, err
	}
	// MountFd indexes the descriptors as sent; make it the descriptor.
	resolve := func(src *initSource) error {
		if src == nil || src.MountFd < 0 {
			return nil
		}
		if src.MountFd >= len(fds) {
			return fmt.Errorf("config refers to descriptor %d of %d", src.MountFd, len(fds))
		}
		src.MountFd = fds[src.MountFd]
		return nil
	}
	errs := []error{resolve(cfg.Binary)}
	for _, fd := range []*int{&cfg.Stdout, &cfg.Stderr, &cfg.Extra} {
		if *fd >= len(fds) {
			errs = append(errs, fmt.Errorf("config refers to descriptor %d of %d", *fd, len(fds)))
		} else if *fd >= 0 {
			*fd = fds[*fd]
		}
	}
	for i := range cfg.Binds {
		errs = append(errs, resolve(&cfg.Binds[i].Source))
	}
	for i := range cfg.Overlays {
		errs = append(errs, resolve(&cfg.Overlays[i].Source))
	}
	return cfg, errors.Join(errs...)
}

// etcFiles are the files the init writes in the sandbox's /etc: the
// sandbox's user (uid and gid 65534, home /tmp) and localhost.
func etcFiles() map[string]string {
	return map[string]string{
		"hosts":  "127.0.0.1\tlocalhost\n::1\tlocalhost\n",
		"passwd": "gopher:x:65534:65534:gopher:/tmp:/bin/false\n",
		"group":  "gopher:x:65534:\n",
	}
}
