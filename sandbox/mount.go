//go:build linux

package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// buildRoot makes the minimal root of base with cfg's mounts and pivots
// into it, all after the config (an init that opens host paths itself).
func buildRoot(base *initBase, cfg *initConfig) error {
	if err := makePrivate(); err != nil {
		return err
	}
	// Host paths are opened before anything covers them (the new root is
	// mounted over /tmp). Opened here, in our own mount namespace, they can
	// be bind sources; a parent's descriptor could not.
	for _, src := range cfg.sources() {
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
	if err := makeRoot(r, base.RootSize, cfg.TmpSize); err != nil {
		return err
	}
	staging, err := mountRun(r, cfg)
	if err != nil {
		return err
	}
	if err := enterRoot(r); err != nil {
		return err
	}
	return sealRoot(staging)
}

// prebuildRoot builds the part of the root that does not depend on the
// run and pivots into it: the host's tree is gone from here on, and the
// run's mounts (finishRoot) can only come as detached mounts.
func prebuildRoot(base *initBase) error {
	if err := makePrivate(); err != nil {
		return err
	}
	r := newRootMount
	if err := makeRoot(r, base.RootSize, base.TmpSize); err != nil {
		return err
	}
	return enterRoot(r)
}

// finishRoot adds cfg's mounts to the root prebuildRoot made (after its
// pivot_root) and makes it read-only. Every source must be a detached
// mount.
func finishRoot(base *initBase, cfg *initConfig) error {
	for _, src := range cfg.sources() {
		if src != nil && src.MountFd < 0 {
			return fmt.Errorf("mount %s: a host path after the root was built", src.Path)
		}
	}
	if cfg.TmpSize != base.TmpSize {
		opts := fmt.Sprintf("size=%d", cfg.TmpSize)
		if err := unix.Mount("", "/tmp", "", unix.MS_REMOUNT|unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
			return fmt.Errorf("resize /tmp: %w", err)
		}
	}
	staging, err := mountRun("/", cfg)
	if err != nil {
		return err
	}
	return sealRoot(staging)
}

// sources are the mount sources of cfg: its binary (nil when none), its
// binds' and its overlays'.
func (cfg *initConfig) sources() []*initSource {
	srcs := []*initSource{cfg.Binary}
	for i := range cfg.Binds {
		srcs = append(srcs, &cfg.Binds[i].Source)
	}
	for i := range cfg.Overlays {
		srcs = append(srcs, &cfg.Overlays[i].Source)
	}
	return srcs
}

// makePrivate makes every mount private: nothing we mount may propagate
// back to the host.
func makePrivate() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	return nil
}

// makeRoot mounts the new root's tmpfs at r (rootSize bytes) with what
// every sandbox has: /tmp (tmpSize bytes), /dev/{null,zero,urandom}, the
// /etc files, and /proc. The new proc must be mounted while the host's is
// still visible: the kernel refuses a proc mount in a user namespace that
// would reveal more than the mounter can already see.
func makeRoot(r string, rootSize, tmpSize int64) error {
	if err := mountTmpfs(r, rootSize, "0755"); err != nil {
		return fmt.Errorf("root tmpfs: %w", err)
	}
	for _, d := range []string{"proc", "dev", "etc", "tmp"} {
		if err := os.Mkdir(filepath.Join(r, d), 0o755); err != nil {
			return fmt.Errorf("mkdir /%s: %w", d, err)
		}
	}
	if err := mountTmpfs(filepath.Join(r, "tmp"), tmpSize, "1777"); err != nil {
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
	// subset=pid leaves out the host-wide files (/proc/sys, /proc/kmsg,
	// /proc/meminfo, ...): a process needs only its own directory.
	procFlags := uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY)
	if err := unix.Mount("proc", filepath.Join(r, "proc"), "proc", procFlags, "subset=pid"); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	return nil
}

// mountRun mounts cfg's program, binds and overlays in the root at r
// (still writable). It returns the overlays' staging directories
// (relative to the root) for sealRoot.
func mountRun(r string, cfg *initConfig) ([]string, error) {
	if cfg.Binary != nil {
		if err := mountSource(cfg.Binary, filepath.Join(r, "prog"), false); err != nil {
			return nil, fmt.Errorf("mount program: %w", err)
		}
	}
	for i := range cfg.Binds {
		b := &cfg.Binds[i]
		if err := mountSource(&b.Source, filepath.Join(r, b.Target), b.Writable); err != nil {
			return nil, fmt.Errorf("bind %s: %w", b.Target, err)
		}
	}
	var staging []string
	for i := range cfg.Overlays {
		o := &cfg.Overlays[i]
		st, err := mountOverlay(r, i, o)
		if err != nil {
			return nil, fmt.Errorf("overlay %s: %w", o.Target, err)
		}
		staging = append(staging, st)
	}
	return staging, nil
}

// enterRoot makes r the root: pivot_root(".", ".") stacks the old root on
// the new one; detaching it leaves nothing of the host reachable.
func enterRoot(r string) error {
	if err := unix.Chdir(r); err != nil {
		return fmt.Errorf("chdir new root: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// sealRoot detaches the overlays' staging mounts (the overlays keep
// private references to their layers) and makes / read-only.
func sealRoot(staging []string) error {
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
