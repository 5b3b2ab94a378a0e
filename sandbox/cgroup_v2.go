//go:build linux && !playdoc_init

// The unified hierarchy (cgroup v2): where the sandbox puts its parent
// cgroup, and the delegation rules that decide it.

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// cgroupLeaf is the cgroup v2 leaf this server moves its own processes to
// when it must enable controllers in its own, delegated, cgroup: the
// unified hierarchy lets a cgroup other than the root hand controllers to
// its children only while it holds no processes itself.
const cgroupLeaf = "playdoc-server"

// controllers reads the set of controllers a v2 cgroup may enable for its
// children.
func controllers(dir string) map[string]bool {
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	set := map[string]bool{}
	for _, c := range strings.Fields(string(b)) {
		set[c] = true
	}
	return set
}

// setupV2 places our parent in the unified hierarchy. In a cgroup systemd
// delegated to us (Delegate=yes marks it with the xattr trusted.delegate,
// or user.delegate under a user's manager), even as root, the runs belong
// inside it: the unit's own limits (MemoryMax=, TasksMax=, CPUWeight=) then
// bound all runs together. Else at the top, <mount>/playdoc, where we may
// enable controllers at the root (root on the host); else inside our own
// cgroup if we may enable controllers there (a non-root user's delegated
// subtree, a container's cgroup namespace).
func setupV2(mount, name string) (*cgroups, error) {
	own, ownErr := ownCgroup(mount)
	if ownErr == nil && own != mount && delegated(own) {
		cg, err := setupInside(own, name)
		if err == nil {
			return cg, nil
		}
		ownErr = err // and not worth a second try below
	}
	top, topErr := enableControllers(mount)
	if topErr == nil {
		return makeV2Parent(mount, name, top)
	}
	if ownErr != nil {
		return nil, fmt.Errorf("cgroup v2: cannot enable controllers at %s (%v) nor in our own cgroup: %w", mount, topErr, ownErr)
	}
	cg, err := setupInside(own, name)
	if err != nil {
		return nil, fmt.Errorf("cgroup v2: cannot enable controllers at %s (%v) nor in our own cgroup: %w", mount, topErr, err)
	}
	return cg, nil
}

// delegated reports whether systemd marked dir as delegated.
func delegated(dir string) bool {
	for _, attr := range []string{"trusted.delegate", "user.delegate"} {
		buf := make([]byte, 8)
		n, err := unix.Getxattr(dir, attr, buf)
		if err == nil && string(buf[:n]) == "1" {
			return true
		}
	}
	return false
}

// setupInside creates our parent inside own, <own>/playdoc/<name>. Our own
// processes move to the leaf <own>/playdoc-server first if they are in own.
func setupInside(own, name string) (*cgroups, error) {
	ctrl, err := enableControllers(own)
	if errors.Is(err, syscall.EBUSY) {
		leaf := filepath.Join(own, cgroupLeaf)
		if err := os.Mkdir(leaf, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create %s: %w", leaf, err)
		}
		for _, pid := range readPids(filepath.Join(own, "cgroup.procs")) {
			if err := os.WriteFile(filepath.Join(leaf, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil && !errors.Is(err, syscall.ESRCH) {
				return nil, fmt.Errorf("move process %d to %s: %w", pid, leaf, err)
			}
		}
		ctrl, err = enableControllers(own)
	}
	if err != nil {
		return nil, err
	}
	return makeV2Parent(own, name, ctrl)
}

// makeV2Parent creates <under>/playdoc/<name> with the controllers ctrl
// enabled down to the runs' cgroups.
func makeV2Parent(under, name string, ctrl string) (*cgroups, error) {
	base, dir, err := makeParent(under, name, true)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{base, dir} {
		if err := os.WriteFile(filepath.Join(d, "cgroup.subtree_control"), []byte(ctrl), 0); err != nil {
			_ = killAndRemove(dir, true)
			return nil, fmt.Errorf("enable controllers %q in %s: %w", ctrl, d, err)
		}
	}
	return &cgroups{v2: true, parents: map[string]string{"unified": dir}, cpu: strings.Contains(ctrl, "+cpu")}, nil
}

// enableControllers enables memory, pids and (if available) cpu for the
// children of dir and returns what it wrote. Enabling what is enabled
// already changes nothing and succeeds.
func enableControllers(dir string) (string, error) {
	avail := controllers(dir)
	if !avail["memory"] || !avail["pids"] {
		return "", fmt.Errorf("cgroup %s offers no memory and pids controllers", dir)
	}
	ctrl := "+memory +pids"
	if avail["cpu"] {
		ctrl += " +cpu"
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte(ctrl), 0); err != nil {
		return "", fmt.Errorf("enable controllers in %s: %w", dir, err)
	}
	return ctrl, nil
}

// ownCgroup is the directory of our own v2 cgroup; from our leaf, its
// parent (a sandbox created earlier in this process moved us there).
func ownCgroup(mount string) (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", fmt.Errorf("read own cgroup: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			dir := filepath.Join(mount, path)
			if filepath.Base(dir) == cgroupLeaf {
				dir = filepath.Dir(dir)
			}
			return dir, nil
		}
	}
	return "", fmt.Errorf("no cgroup v2 entry in /proc/self/cgroup: %q", b)
}
