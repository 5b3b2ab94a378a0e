//go:build linux && !playdoc_init

package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// initConfig turns spec into the init's config: the checked spec, its
// rlimits and its mount sources, whose descriptors (as root) go to fds.
// The output descriptors are added later (connectOutput): a probe has none.
func (s *Sandbox) initConfig(spec Spec, limits Limits, probe bool, fds *sendFds) (initConfig, error) {
	cfg := initConfig{
		Probe:    probe,
		Path:     spec.Path,
		Args:     spec.Args,
		Env:      spec.Env,
		Dir:      spec.Dir,
		TmpSize:  limits.TmpSize,
		Landlock: s.landlockABI > 0,
		Seccomp:  s.filters[spec.SeccompProfile],
		Stdout:   -1,
		Stderr:   -1,
		Extra:    -1,
		Rlimits:  s.rlimits(limits),
	}
	if cfg.Dir == "" {
		cfg.Dir = "/tmp"
	}
	if cfg.Path == "" {
		cfg.Path = "/prog"
	}
	if s.seccomp && cfg.Seccomp == nil {
		return initConfig{}, fmt.Errorf("%w: unknown seccomp profile %d", errSpec, spec.SeccompProfile)
	}
	if !probe && spec.Binary == "" && spec.Path == "" {
		return initConfig{}, fmt.Errorf("%w: neither Binary nor Path", errSpec)
	}
	if err := s.addMounts(&cfg, spec, fds); err != nil {
		return initConfig{}, err
	}
	return cfg, nil
}

// initBase is the base of every sandbox of s, with a /tmp of tmpSize
// bytes. As root every mount source goes to the init as a detached mount
// (see source), so the init may build its root before its config.
func (s *Sandbox) initBase(tmpSize int64) initBase {
	return initBase{
		Prebuild: s.root,
		Hostname: "sandbox",
		RootSize: 1 << 20,
		TmpSize:  tmpSize,
		Loopback: true,
	}
}

// addMounts checks the targets of spec's binary, binds and overlays and
// adds their sources to cfg.
func (s *Sandbox) addMounts(cfg *initConfig, spec Spec, fds *sendFds) error {
	if spec.Binary != "" {
		src, err := s.source(spec.Binary, false, fds)
		if err != nil {
			return err
		}
		if src.Dir {
			return fmt.Errorf("%w: binary %s is a directory", errSpec, spec.Binary)
		}
		cfg.Binary = &src
	}
	targets := targetSet{"/prog": spec.Binary != ""}
	for _, b := range spec.Binds {
		if err := targets.add(b.Target); err != nil {
			return err
		}
		src, err := s.source(b.Host, b.Writable, fds)
		if err != nil {
			return err
		}
		cfg.Binds = append(cfg.Binds, initBind{Source: src, Target: b.Target, Writable: b.Writable})
	}
	for _, o := range spec.Overlays {
		if err := targets.add(o.Target); err != nil {
			return err
		}
		src, err := s.source(o.Lower, false, fds)
		if err != nil {
			return err
		}
		if !src.Dir {
			return fmt.Errorf("%w: overlay lower %s is not a directory", errSpec, o.Lower)
		}
		size := o.Size
		if size <= 0 {
			size = defaultOverlaySize
		}
		cfg.Overlays = append(cfg.Overlays, initOverlay{Source: src, Target: o.Target, Size: size})
	}
	return nil
}

// defaultOverlaySize is an overlay's writable layer when Overlay.Size is 0.
const defaultOverlaySize = 256 << 20

// source prepares a host path for the init. As root we clone its mount here
// (open_tree), already read-only, nosuid and nodev: the init then needs no
// access of its own to the host path. Without root the init opens the path
// itself, with our uid's rights.
func (s *Sandbox) source(path string, writable bool, fds *sendFds) (initSource, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return initSource{}, fmt.Errorf("%w: %s: %w", errSpec, path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return initSource{}, fmt.Errorf("%w: %w", errSpec, err)
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return initSource{}, fmt.Errorf("%w: %s is neither a file nor a directory", errSpec, path)
	}
	src := initSource{MountFd: -1, Path: abs, Dir: fi.IsDir()}
	if !s.root {
		return src, nil
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, abs, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return initSource{}, fmt.Errorf("clone mount of %s: %w", abs, err)
	}
	src.MountFd = fds.add(fd)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if !writable {
		attr.Attr_set |= unix.MOUNT_ATTR_RDONLY
	}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		return initSource{}, fmt.Errorf("mount attributes of %s: %w", abs, err)
	}
	return src, nil
}

// targetSet is the mount targets of one spec, true when taken.
type targetSet map[string]bool

// add checks that t may be mounted on and is not taken yet, and takes it.
func (ts targetSet) add(t string) error {
	if !filepath.IsAbs(t) || filepath.Clean(t) != t || t == "/" || t == "/tmp" {
		return fmt.Errorf("%w: bad target %q", errSpec, t)
	}
	// /dev/shm, where POSIX shared memory and semaphores live, may hold a
	// writable layer of the run's own.
	if t != "/dev/shm" {
		for _, reserved := range []string{"/proc", "/dev", "/.overlay"} {
			if t == reserved || strings.HasPrefix(t, reserved+"/") {
				return fmt.Errorf("%w: target %q is reserved", errSpec, t)
			}
		}
	}
	// Files may be added to /etc (zoneinfo, services, CA roots), not the
	// sandbox's own ones replaced.
	if slices.Contains([]string{"/etc", "/etc/hosts", "/etc/passwd", "/etc/group"}, t) {
		return fmt.Errorf("%w: target %q is reserved", errSpec, t)
	}
	if ts[t] {
		return fmt.Errorf("%w: target %q used twice", errSpec, t)
	}
	ts[t] = true
	return nil
}

// sendFds is the descriptors sent to the init with its config; the config
// names them by index. We close our copies once they are sent.
type sendFds []int

// add appends fd (ours from now on) and returns its index.
func (f *sendFds) add(fd int) int {
	*f = append(*f, fd)
	return len(*f) - 1
}

// dup adds a close-on-exec copy of fd (the caller keeps fd) and returns its
// index.
func (f *sendFds) dup(fd uintptr) (int, error) {
	c, err := unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	return f.add(c), nil
}

// close closes our copies. A pointer receiver, so that a deferred close
// sees the descriptors added after the defer.
func (f *sendFds) close() {
	for _, fd := range *f {
		unix.Close(fd)
	}
}
