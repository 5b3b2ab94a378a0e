//go:build linux

// Command init is PID 1 of the throwaway VM that scripts/cgroup-v2-vm.sh
// boots to run the sandbox's tests on a cgroup v2-only kernel. It does what
// a real host's init (systemd) would have done by the time a service starts:
// a tmpfs root that pivot_root(2) accepts, the kernel file systems, the
// modules the sandbox needs, the unified cgroup hierarchy with its
// controllers enabled down to a service's cgroup, and a delegated subtree
// for an unprivileged user (systemd's Delegate=yes). Then it runs the
// prebuilt sandbox test binary once per configuration (as root in a service
// cgroup, as a user in a delegated one, as root in a container's cgroup
// namespace), prints a summary
// line per configuration ("vminit: result <name> exit=<code> wall=<d>") and
// "vminit: all passed" or "vminit: FAILED", and powers the VM off.
//
// It reads /etc/vminit.json (a plan the script writes): the modules to load
// and the test runs.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// plan is /etc/vminit.json.
type plan struct {
	// Modules are kernel module files (paths in the initramfs), loaded in
	// order: the script lists dependencies first.
	Modules []string
	Runs    []testRun
}

// testRun is one execution of the test binary.
type testRun struct {
	Name string
	// Argv is the command; Argv[0] an absolute path.
	Argv []string
	Env  []string
	// UID, when non-zero, runs the command as that user (and group).
	UID int
	// Delegate hands the run's cgroup to it as systemd's Delegate=yes
	// does: owned by UID, marked with the xattr trusted.delegate.
	Delegate bool
	// Inside says the sandbox must put its cgroups inside the run's cgroup
	// (<Cgroup>/playdoc), not at the top of the hierarchy.
	Inside bool
	// Cgroup is the run's service cgroup, relative to /sys/fs/cgroup.
	Cgroup string
	// Timeout bounds the run (Go duration).
	Timeout string
	// Container runs the command as a container runtime would (Docker's
	// --cgroupns=private, a Kubernetes pod): in new cgroup and mount
	// namespaces, with cgroup2 mounted afresh, so that the service cgroup
	// is its /sys/fs/cgroup and holds the command's process.
	Container bool
}

const cgroupRoot = "/sys/fs/cgroup"

// containerArg, as argv[1], makes this binary the container's entry: it
// mounts the namespace's cgroup2 and execs the rest of its arguments.
const containerArg = "container-entry"

func main() {
	if len(os.Args) > 2 && os.Args[1] == containerArg {
		err := containerEntry(os.Args[2:])
		fmt.Printf("vminit: container entry: %v\n", err)
		os.Exit(1)
	}
	err := run()
	if err != nil {
		fmt.Printf("vminit: FAILED: %v\n", err)
	} else {
		fmt.Println("vminit: all passed")
	}
	unix.Sync()
	// PID 1 must not exit (the kernel would panic); power off instead.
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		fmt.Printf("vminit: power off: %v\n", err)
	}
	select {}
}

func run() error {
	if err := switchRoot(); err != nil {
		return err
	}
	if err := mountAll(); err != nil {
		return err
	}
	b, err := os.ReadFile("/etc/vminit.json")
	if err != nil {
		return fmt.Errorf("read plan: %w", err)
	}
	var p plan
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("/etc/vminit.json: %w", err)
	}
	var uname unix.Utsname
	_ = unix.Uname(&uname)
	fmt.Printf("vminit: kernel %s, cmdline %s", unix.ByteSliceToString(uname.Release[:]), readFile("/proc/cmdline"))
	for _, m := range p.Modules {
		if err := loadModule(m); err != nil {
			return err
		}
	}
	if err := setupCgroups(); err != nil {
		return err
	}
	var failed []string
	for _, r := range p.Runs {
		code, wall, err := r.exec()
		fmt.Printf("vminit: result %s exit=%d wall=%s\n", r.Name, code, wall.Round(time.Second))
		if err != nil || code != 0 {
			fmt.Printf("vminit: %s: %v\n", r.Name, err)
			failed = append(failed, r.Name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("runs failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// switchRoot copies the initramfs into a tmpfs and makes that the root:
// pivot_root(2), which the sandbox uses, refuses to move away from the
// initial rootfs.
func switchRoot() error {
	const nr = "/newroot"
	if err := os.MkdirAll(nr, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", nr, "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("mount tmpfs root: %w", err)
	}
	for _, top := range []string{"bin", "etc", "lib"} {
		if err := copyTree("/"+top, nr+"/"+top); err != nil {
			return err
		}
	}
	// Ourselves, as the containers' entry.
	if err := copyTree("/init", nr+"/bin/vminit"); err != nil {
		return err
	}
	for _, d := range []string{"proc", "sys", "dev", "tmp", "run", "home"} {
		if err := os.MkdirAll(nr+"/"+d, 0o755); err != nil {
			return err
		}
	}
	if err := os.Chdir(nr); err != nil {
		return err
	}
	if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move the new root: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	return os.Chdir("/")
}

// copyTree copies regular files and directories (the initramfs has
// nothing else), keeping their modes.
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(to, fi.Mode().Perm())
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return fmt.Errorf("copy %s: %w", path, err)
		}
		return out.Close()
	})
}

// mountAll mounts what a systemd host has mounted, with systemd's options
// for cgroup2.
func mountAll() error {
	mounts := []struct {
		src, target, fstype string
		flags               uintptr
		data                string
	}{
		{"proc", "/proc", "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
		{"sysfs", "/sys", "sysfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
		{"devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755"},
		{"tmpfs", "/tmp", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777"},
		{"tmpfs", "/run", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=0755"},
		{"cgroup2", cgroupRoot, "cgroup2", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, "nsdelegate,memory_recursiveprot"},
	}
	for _, m := range mounts {
		if err := unix.Mount(m.src, m.target, m.fstype, m.flags, m.data); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.fstype, m.target, err)
		}
	}
	return nil
}

// loadModule loads one module file; compressed ones are handed to the
// kernel to decompress (MODULE_INIT_COMPRESSED_FILE, Linux 5.17, which
// needs CONFIG_MODULE_DECOMPRESS).
func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("module: %w", err)
	}
	defer f.Close()
	flags := 0
	if ext := filepath.Ext(path); ext == ".xz" || ext == ".zst" || ext == ".gz" {
		flags |= unix.MODULE_INIT_COMPRESSED_FILE
	}
	if err := unix.FinitModule(int(f.Fd()), "", flags); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("load module %s: %w", path, err)
	}
	fmt.Printf("vminit: loaded %s\n", filepath.Base(path))
	return nil
}

// setupCgroups enables every available controller at the root and in
// system.slice, and moves PID 1 to init.scope, as systemd does: services
// then live in leaves of system.slice.
func setupCgroups() error {
	fmt.Printf("vminit: cgroup2 controllers: %s", readFile(cgroupRoot+"/cgroup.controllers"))
	if err := os.MkdirAll(cgroupRoot+"/init.scope", 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(cgroupRoot+"/init.scope/cgroup.procs", []byte("0"), 0); err != nil {
		return fmt.Errorf("move init to init.scope: %w", err)
	}
	if err := enableControllers(cgroupRoot); err != nil {
		return err
	}
	if err := os.MkdirAll(cgroupRoot+"/system.slice", 0o755); err != nil {
		return err
	}
	return enableControllers(cgroupRoot + "/system.slice")
}

func enableControllers(dir string) error {
	var ctrl []string
	for _, c := range strings.Fields(readFile(dir + "/cgroup.controllers")) {
		ctrl = append(ctrl, "+"+c)
	}
	if err := os.WriteFile(dir+"/cgroup.subtree_control", []byte(strings.Join(ctrl, " ")), 0); err != nil {
		return fmt.Errorf("enable %v in %s: %w", ctrl, dir, err)
	}
	return nil
}

// exec runs the test binary in its own service cgroup, its output on the
// console, and reports its exit code and wall time.
func (r testRun) exec() (int, time.Duration, error) {
	timeout, err := time.ParseDuration(r.Timeout)
	if err != nil {
		return -1, 0, fmt.Errorf("timeout: %w", err)
	}
	dir := filepath.Join(cgroupRoot, r.Cgroup)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return -1, 0, err
	}
	if r.Delegate {
		// What systemd chowns for Delegate=yes: the directory and the
		// files through which the delegate manages its subtree.
		for _, f := range []string{"", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"} {
			if err := os.Chown(filepath.Join(dir, f), r.UID, r.UID); err != nil {
				return -1, 0, fmt.Errorf("delegate %s: %w", dir, err)
			}
		}
		if err := unix.Setxattr(dir, "trusted.delegate", []byte("1"), 0); err != nil {
			return -1, 0, fmt.Errorf("mark %s delegated: %w", dir, err)
		}
	}
	cg, err := os.Open(dir)
	if err != nil {
		return -1, 0, err
	}
	defer cg.Close()
	cmd := exec.Command(r.Argv[0], r.Argv[1:]...)
	if r.Container {
		cmd = exec.Command("/bin/vminit", append([]string{containerArg}, r.Argv...)...)
	}
	cmd.Env = r.Env
	cmd.Dir = "/tmp"
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cg.Fd()), Setsid: true}
	if r.Container {
		// clone3 places the child in the cgroup first, so the new cgroup
		// namespace's root is the service cgroup.
		cmd.SysProcAttr.Cloneflags = unix.CLONE_NEWCGROUP | unix.CLONE_NEWNS
	}
	if r.UID != 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(r.UID), Gid: uint32(r.UID), Groups: []uint32{}}
	}
	fmt.Printf("vminit: run %s (uid %d, cgroup /%s, container %v): %s\n", r.Name, r.UID, r.Cgroup, r.Container, strings.Join(r.Argv, " "))
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return -1, 0, err
	}
	done := make(chan int, 1)
	go func() { done <- reapUntil(cmd.Process.Pid) }()
	// A heartbeat tells the script's watchdog that the guest is alive
	// while a run is quiet (a hung test ends by its own -test.timeout);
	// silence means the emulated machine itself stopped.
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var code int
wait:
	for {
		select {
		case code = <-done:
			break wait
		case <-beat.C:
			fmt.Printf("vminit: heartbeat %s %v%s\n", r.Name, time.Since(start).Round(time.Second), blockedTasks())
		case <-deadline.C:
			// The whole service, as systemd would stop it.
			_ = os.WriteFile(dir+"/cgroup.kill", []byte("1"), 0)
			<-done
			return -1, time.Since(start), fmt.Errorf("timed out after %v", timeout)
		}
	}
	wall := time.Since(start)
	fmt.Printf("vminit: cgroups after %s: %s\n", r.Name, strings.Join(cgroupTree(), " "))
	if code != 0 {
		return code, wall, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "playdoc")); (err == nil) != r.Inside {
		return 1, wall, fmt.Errorf("the sandbox's cgroups are not where expected (inside /%s: %v)", r.Cgroup, r.Inside)
	}
	// A service that leaves processes or a run's cgroup behind fails.
	if left := leftovers(); left != "" {
		return 1, wall, fmt.Errorf("left behind: %s", left)
	}
	return 0, wall, nil
}

// reapUntil waits for any child until pid has ended and returns pid's exit
// code (-1 if killed by a signal). As PID 1 we inherit every orphan, and a
// zombie nobody reaps would look like a live process to the tests (a killed
// server's sandbox init, for one); os/exec's Wait cannot be used next to
// this loop, which would take its child's status.
// heartbeat is how often a run's progress is printed (see exec); the
// script's watchdog (VM_STALL) waits several of them.
const heartbeat = 30 * time.Second

// blockedTasks lists the processes in uninterruptible sleep (state D)
// with the kernel function they wait in, for a heartbeat: a test stuck
// in the kernel shows where.
func blockedTasks() string {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []string
	for _, d := range dirs {
		stat := readFile(d + "/stat")
		// pid (comm) state ...: comm may hold spaces and parentheses.
		i := strings.LastIndexByte(stat, ')')
		if i < 0 || i+2 >= len(stat) || stat[i+2] != 'D' {
			continue
		}
		out = append(out, fmt.Sprintf("%s:%s", stat[:i+1], strings.TrimSpace(readFile(d+"/wchan"))))
	}
	if len(out) == 0 {
		return ""
	}
	return " blocked: " + strings.Join(out, " ")
}

func reapUntil(pid int) int {
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			fmt.Printf("vminit: wait: %v\n", err)
			return -1
		}
		if got == pid {
			return ws.ExitStatus()
		}
	}
}

// containerEntry runs in the container's new namespaces: it replaces the
// host's cgroup2 mount with one of its own cgroup namespace, whose root is
// the container's cgroup, and execs argv.
func containerEntry(argv []string) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if err := unix.Unmount(cgroupRoot, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount the host's cgroup2: %w", err)
	}
	if err := unix.Mount("cgroup2", cgroupRoot, "cgroup2", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount cgroup2: %w", err)
	}
	fmt.Printf("vminit: container: /proc/self/cgroup %s", readFile("/proc/self/cgroup"))
	return syscall.Exec(argv[0], argv, os.Environ())
}

// cgroupTree lists the hierarchy's cgroups, for the log: where the
// sandbox put its own.
func cgroupTree() []string {
	var dirs []string
	_ = filepath.WalkDir(cgroupRoot, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != cgroupRoot {
			dirs = append(dirs, strings.TrimPrefix(p, cgroupRoot))
		}
		return nil
	})
	return dirs
}

// sandboxCgroup matches the names the sandbox gives a server's parent
// cgroup ("<pid>-<hex>") and a run's cgroup ("r<n>").
var sandboxCgroup = regexp.MustCompile(`^([0-9]+-[0-9a-f]+|r[0-9]+)$`)

// leftovers lists, in the whole hierarchy, processes outside init.scope and
// the sandbox's cgroups that still exist.
func leftovers() string {
	var out []string
	_ = filepath.WalkDir(cgroupRoot, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		rel := strings.TrimPrefix(p, cgroupRoot)
		if procs := strings.Fields(readFile(p + "/cgroup.procs")); len(procs) > 0 && rel != "/init.scope" && rel != "" {
			out = append(out, fmt.Sprintf("processes %s in %s", strings.Join(procs, ","), rel))
		} else if sandboxCgroup.MatchString(d.Name()) {
			out = append(out, "cgroup "+rel)
		}
		return nil
	})
	return strings.Join(out, "; ")
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}
