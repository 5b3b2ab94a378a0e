//go:build linux

package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/landlock-lsm/go-landlock/landlock"
	llsyscall "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// newRootMount is where the init builds the new root before pivot_root. It
// lives in the init's private mount namespace, so covering the host's /tmp
// there hides nothing from anyone else; every host source is reached through
// a descriptor: a detached mount sent by the parent, or one the init opened
// before covering /tmp.
const newRootMount = "/tmp"

// runInit is the init's whole job: read the config, build the root, lock the
// process down and exec the program. It returns only on failure (or, for a
// probe, after a successful setup).
func runInit() error {
	unix.CloseOnExec(fdStatus)
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
	// The parent moved us into the run's cgroups after the clone: a fresh
	// cgroup namespace now makes that cgroup our "/".
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return fmt.Errorf("unshare cgroup namespace: %w", err)
	}
	if err := buildRoot(cfg); err != nil {
		return err
	}
	if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
		return fmt.Errorf("sethostname: %w", err)
	}
	if cfg.Loopback {
		if err := loopbackUp(); err != nil {
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
		if err := loadSeccomp(cfg.Seccomp); err != nil {
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

// ownCPU is the user and system time of this process so far, in ns.
func ownCPU() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// readConfig receives the one config message and its descriptors. Until it
// arrives the init is idle (kept warm by the parent); an empty read means
// the parent no longer needs it.
func readConfig() (*initConfig, error) {
	buf := make([]byte, 1<<20)
	oob := make([]byte, unix.CmsgSpace(maxConfigFds*4))
	var n, oobn, flags int
	var err error
	for {
		n, oobn, flags, _, err = unix.Recvmsg(fdConfig, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if n == 0 {
		os.Exit(0)
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		return nil, errors.New("read config: message truncated")
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
	cfg := &initConfig{}
	if err := json.Unmarshal(buf[:n], cfg); err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
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
	for _, fd := range []*int{&cfg.Stdout, &cfg.Stderr} {
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

// buildRoot makes the minimal root and pivots into it.
func buildRoot(cfg *initConfig) error {
	// Nothing we mount may propagate back to the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	// Host paths are opened before anything covers them (the new root is
	// mounted over /tmp). Opened here, in our own mount namespace, they can
	// be bind sources; a parent's descriptor could not.
	sources := []*initSource{cfg.Binary}
	for i := range cfg.Binds {
		sources = append(sources, &cfg.Binds[i].Source)
	}
	for i := range cfg.Overlays {
		sources = append(sources, &cfg.Overlays[i].Source)
	}
	for _, src := range sources {
		if src == nil || src.MountFd >= 0 {
			continue
		}
		fd, err := unix.Open(src.Path, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", src.Path, err)
		}
		src.fd = fd
	}
	r := newRootMount
	if err := mountTmpfs(r, cfg.RootSize, "0755"); err != nil {
		return fmt.Errorf("root tmpfs: %w", err)
	}
	for _, d := range []string{"proc", "dev", "etc", "tmp"} {
		if err := os.Mkdir(filepath.Join(r, d), 0o755); err != nil {
			return fmt.Errorf("mkdir /%s: %w", d, err)
		}
	}
	if err := mountTmpfs(filepath.Join(r, "tmp"), cfg.TmpSize, "1777"); err != nil {
		return fmt.Errorf("/tmp tmpfs: %w", err)
	}
	for _, dev := range []string{"null", "zero", "urandom"} {
		target := filepath.Join(r, "dev", dev)
		if err := bindFile("/dev/"+dev, target, dev == "null"); err != nil {
			return fmt.Errorf("/dev/%s: %w", dev, err)
		}
	}
	// Go's resolver answers "localhost" from /etc/hosts; os/user finds the
	// program's own user and group (pure Go reads these files). The rest
	// of /etc is what the caller binds there (Spec.Binds).
	for name, data := range etcFiles() {
		if err := os.WriteFile(filepath.Join(r, "etc", name), []byte(data), 0o644); err != nil {
			return fmt.Errorf("write /etc/%s: %w", name, err)
		}
	}
	if cfg.Binary != nil {
		if err := mountSource(cfg.Binary, filepath.Join(r, "prog"), false); err != nil {
			return fmt.Errorf("mount program: %w", err)
		}
	}
	for i := range cfg.Binds {
		b := &cfg.Binds[i]
		if err := mountSource(&b.Source, filepath.Join(r, b.Target), b.Writable); err != nil {
			return fmt.Errorf("bind %s: %w", b.Target, err)
		}
	}
	var staging []string
	for i := range cfg.Overlays {
		o := &cfg.Overlays[i]
		st, err := mountOverlay(r, i, o)
		if err != nil {
			return fmt.Errorf("overlay %s: %w", o.Target, err)
		}
		staging = append(staging, st)
	}
	// The new proc must be mounted while the host's is still visible: the
	// kernel refuses a proc mount in a user namespace that would reveal more
	// than the mounter can already see.
	// subset=pid leaves out the host-wide files (/proc/sys, /proc/kmsg,
	// /proc/meminfo, ...): a process needs only its own directory.
	procFlags := uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY)
	if err := unix.Mount("proc", filepath.Join(r, "proc"), "proc", procFlags, "subset=pid"); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if err := unix.Chdir(r); err != nil {
		return fmt.Errorf("chdir new root: %w", err)
	}
	// pivot_root(".", ".") stacks the old root on the new one; detaching it
	// leaves nothing of the host reachable.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	// The overlays keep private references to their layers: the staging
	// mounts can go.
	for _, st := range staging {
		if err := unix.Unmount("/"+st, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("detach overlay staging: %w", err)
		}
		if err := os.Remove("/" + st); err != nil {
			return fmt.Errorf("remove overlay staging: %w", err)
		}
	}
	if len(staging) > 0 {
		if err := os.Remove("/.overlay"); err != nil {
			return fmt.Errorf("remove overlay staging: %w", err)
		}
	}
	if err := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		return fmt.Errorf("remount / read-only: %w", err)
	}
	return nil
}

func fdPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// mountSource makes src visible at target (created as an empty file or
// directory): a detached mount is attached as it is, a path is bind-mounted.
func mountSource(src *initSource, target string, writable bool) error {
	if src.Dir {
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
	} else if err := createFile(target); err != nil {
		return err
	}
	if src.MountFd >= 0 {
		if err := unix.MoveMount(src.MountFd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("move_mount: %w", err)
		}
		return nil
	}
	return bind(fdPath(src.fd), target, writable)
}

func mountTmpfs(target string, size int64, mode string) error {
	opts := fmt.Sprintf("size=%d,mode=%s,nr_inodes=%d", size, mode, 16384)
	return unix.Mount("tmpfs", target, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts)
}

// bindFile bind-mounts the file source onto target (created empty).
func bindFile(source, target string, writable bool) error {
	if err := createFile(target); err != nil {
		return err
	}
	return bind(source, target, writable)
}

// createFile creates target, and its folder, as a mount point for a file
// (an existing file is left as it is).
func createFile(target string) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// bind makes source visible at target, read-only unless writable, and never
// with set-uid or device semantics.
func bind(source, target string, writable bool) error {
	if err := unix.Mount(source, target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind mount: %w", err)
	}
	// In a user namespace a remount must keep the flags the kernel locked on
	// the source mount, or it fails with EPERM.
	var st unix.Statfs_t
	if err := unix.Statfs(target, &st); err != nil {
		return fmt.Errorf("statfs: %w", err)
	}
	flags := uintptr(unix.MS_REMOUNT | unix.MS_BIND | unix.MS_NOSUID)
	for _, f := range []struct{ st, ms int64 }{
		{unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME},
		{unix.ST_NODIRATIME, unix.MS_NODIRATIME},
		{unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if st.Flags&f.st != 0 {
			flags |= uintptr(f.ms)
		}
	}
	if !writable {
		flags |= unix.MS_RDONLY
	}
	if err := unix.Mount("", target, "", flags, ""); err != nil {
		return fmt.Errorf("remount: %w", err)
	}
	return nil
}

// mountOverlay mounts o copy-on-write at its target: the lower layer is the
// inherited directory, the upper and work layers live in a throwaway tmpfs.
// It returns the staging directory (relative to the new root) to detach
// once the root is entered.
func mountOverlay(root string, i int, o *initOverlay) (string, error) {
	rel := filepath.Join(".overlay", strconv.Itoa(i))
	st := filepath.Join(root, rel)
	if err := os.MkdirAll(st, 0o755); err != nil {
		return "", err
	}
	if err := mountTmpfs(st, o.Size, "0755"); err != nil {
		return "", fmt.Errorf("staging tmpfs: %w", err)
	}
	for _, d := range []string{"lower", "upper", "work"} {
		if err := os.Mkdir(filepath.Join(st, d), 0o755); err != nil {
			return "", err
		}
	}
	lower := filepath.Join(st, "lower")
	if err := mountSource(&o.Source, lower, false); err != nil {
		return "", fmt.Errorf("lower layer: %w", err)
	}
	target := filepath.Join(root, o.Target)
	if err := os.MkdirAll(target, 0o755); err != nil {
		return "", err
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, filepath.Join(st, "upper"), filepath.Join(st, "work"))
	err := unix.Mount("overlay", target, "overlay", unix.MS_NOSUID|unix.MS_NODEV, opts)
	if err != nil {
		// Unprivileged overlays keep their metadata in user.* xattrs.
		err2 := unix.Mount("overlay", target, "overlay", unix.MS_NOSUID|unix.MS_NODEV, opts+",userxattr")
		if err2 != nil {
			return "", fmt.Errorf("mount overlay: %w (with userxattr: %w)", err, err2)
		}
	}
	// Detach the lower bind now; the tmpfs holding upper/work is detached
	// after pivot_root (it is the staging directory itself).
	if err := unix.Unmount(lower, unix.MNT_DETACH); err != nil {
		return "", fmt.Errorf("detach lower staging: %w", err)
	}
	return rel, nil
}

// loopbackUp brings "lo" up in the new network namespace: the program may
// talk to itself on 127.0.0.1, and there is no other interface.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("ifreq lo: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("get lo flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
}

// dropCapabilities empties the bounding, ambient, inheritable, permitted and
// effective sets and locks the securebits, so no exec can ever regain a
// capability (not even of the user namespace we own).
func dropCapabilities() error {
	// Capabilities the kernel does not know answer EINVAL.
	for c := 0; c < 64; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("drop capability %d from the bounding set: %w", c, err)
		}
	}
	// NOROOT, NO_SETUID_FIXUP, NO_CAP_AMBIENT_RAISE set and locked; KEEP_CAPS locked off.
	const securebits = 1<<0 | 1<<1 | 1<<2 | 1<<3 | 1<<5 | 1<<6 | 1<<7
	if err := unix.Prctl(unix.PR_SET_SECUREBITS, securebits, 0, 0, 0); err != nil {
		return fmt.Errorf("set securebits: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}

// landlockPaths restricts the file system to the sandbox's own tree. It is
// redundant with the mount namespace by design: one layer's bug should not
// be enough.
func landlockPaths(cfg *initConfig) error {
	rules := []landlock.Rule{
		landlock.RWDirs("/tmp").WithRefer(),
		landlock.RODirs("/proc"),
		landlock.RWFiles("/dev/null"),
		landlock.ROFiles("/dev/zero", "/dev/urandom", "/etc/hosts", "/etc/passwd", "/etc/group"),
	}
	if cfg.Binary != nil {
		rules = append(rules, landlock.ROFiles("/prog"))
	}
	for _, b := range cfg.Binds {
		switch {
		case b.Source.Dir && b.Writable:
			rules = append(rules, landlock.RWDirs(b.Target).WithRefer())
		case b.Source.Dir:
			rules = append(rules, landlock.RODirs(b.Target))
		case b.Writable:
			rules = append(rules, landlock.RWFiles(b.Target))
		default:
			rules = append(rules, landlock.ROFiles(b.Target))
		}
	}
	for _, o := range cfg.Overlays {
		rules = append(rules, landlock.RWDirs(o.Target).WithRefer())
	}
	// The scope keeps the program from abstract sockets made outside its
	// domain: its output sockets may belong to the host's network
	// namespace (see newOutput), where such names are looked up.
	fs := landlock.Config{HandledAccessFS: landlock.V11.HandledAccessFS, Scoped: llsyscall.ScopeAbstractUnixSocket}
	fd, flags, err := fs.BestEffort().NewRulesetFD(rules...)
	if err != nil {
		return fmt.Errorf("landlock ruleset: %w", err)
	}
	if fd < 0 {
		return nil // no Landlock in this kernel after all
	}
	defer unix.Close(fd)
	if err := llsyscall.LandlockRestrictSelf(fd, flags); err != nil {
		return fmt.Errorf("landlock: %w", err)
	}
	return nil
}
