//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// spawnerMarker is argv[0] of the init program when it runs as the
// spawner (see spawner).
const spawnerMarker = "playdoc-sandbox-spawner"

// fdSpawnConn is the spawner's end of its request socket; fdSpawnBinary,
// when present, the init program it starts the inits from.
const (
	fdSpawnConn   = 3
	fdSpawnBinary = 4
)

// spawner is a small helper process that clones the sandbox inits for the
// server. A clone with CLONE_NEWUSER cannot share the parent's memory
// (os/exec then forks instead of vforking), so a clone from the server
// copied the page tables of its whole heap and made every page it wrote
// afterwards a copy-on-write fault with a TLB flush on every core: about
// half of the server's CPU per run. The spawner is the init program (a few
// MB), started once; it clones each init with CLONE_PARENT, so the init is
// still our child (we wait for it and get its exit status and rusage) and
// its parent-death signal is tied to our thread that started the spawner.
//
// One request at a time: a SOCK_SEQPACKET message carrying the init's
// stdin, control socket and status pipe; the answer is "pid N" or
// "error: ...".
type spawner struct {
	mu   sync.Mutex
	conn *os.File // our end of the request socket, non-blocking (in the netpoller); nil once closed
	raw  syscall.RawConn
	proc *os.Process
	stop chan struct{} // closed by close: lets the starting thread go

	// What it was started with, for a replacement (see replacement).
	bin      *os.File // owned; nil: this process's executable
	uid, gid int
	root     bool
}

// errSpawnerGone: the spawner process is dead (killed by someone, or by the
// OOM killer); a replacement can take over.
var errSpawnerGone = errors.New("the spawner is gone")

// startSpawner starts a spawner that runs bin (the init program; nil: this
// process's own executable) and gives its inits uid and gid, mapped as
// sandboxUID inside; root says whether we are root (see initAttr). The
// spawner owns bin from now on, also when starting fails.
//
// The spawner is started from a goroutine that keeps its OS thread locked
// until close: the inits' parent-death signal fires when the thread that
// started the spawner ends, and Go ends a thread only when a goroutine
// locked to it exits, which this one does not do while the spawner runs.
func startSpawner(bin *os.File, uid, gid int, root bool) (*spawner, error) {
	fail := func(err error) (*spawner, error) {
		if bin != nil {
			bin.Close()
		}
		return nil, err
	}
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fail(fmt.Errorf("spawner socket: %w", err))
	}
	child := os.NewFile(uintptr(sp[1]), "spawner")
	defer child.Close()
	path, files := "/proc/self/exe", []*os.File{os.Stdin, nil, nil, child}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		unix.Close(sp[0])
		return fail(fmt.Errorf("spawner: %w", err))
	}
	defer devnull.Close()
	files[0], files[1], files[2] = devnull, devnull, devnull
	if bin != nil {
		path, files = fmt.Sprintf("/proc/self/fd/%d", fdSpawnBinary), append(files, bin)
	}
	// Our end waits in the netpoller, not in a system call.
	if err := unix.SetNonblock(sp[0], true); err != nil {
		unix.Close(sp[0])
		return fail(fmt.Errorf("spawner socket: %w", err))
	}
	conn := os.NewFile(uintptr(sp[0]), "spawner")
	raw, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		return fail(fmt.Errorf("spawner socket: %w", err))
	}
	s := &spawner{conn: conn, raw: raw, stop: make(chan struct{}), bin: bin, uid: uid, gid: gid, root: root}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// One processor: the spawner serves one request at a time, and
		// each clone write-protects every page it has written (a clone
		// with a new user namespace is a fork), so that its next writes
		// fault; fewer threads and per-processor caches write fewer pages.
		p, err := os.StartProcess(path, []string{spawnerMarker, strconv.Itoa(uid), strconv.Itoa(gid), strconv.FormatBool(root), strconv.FormatBool(bin != nil)},
			&os.ProcAttr{Env: []string{"GOMAXPROCS=1"}, Files: files, Sys: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}})
		s.proc = p
		started <- err
		if err != nil {
			runtime.UnlockOSThread()
			return
		}
		<-s.stop
		runtime.UnlockOSThread()
	}()
	if err := <-started; err != nil {
		conn.Close()
		return fail(fmt.Errorf("start the spawner: %w", err))
	}
	return s, nil
}

// replacement starts a new spawner like s (same program, ids).
func (s *spawner) replacement() (*spawner, error) {
	var bin *os.File
	if s.bin != nil {
		fd, err := unix.FcntlInt(s.bin.Fd(), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("replace the spawner: %w", err)
		}
		bin = os.NewFile(uintptr(fd), s.bin.Name())
	}
	return startSpawner(bin, s.uid, s.gid, s.root)
}

// spawn has the spawner start an init with the given descriptors as its
// stdin, control socket and status pipe, and returns it.
func (s *spawner) spawn(stdin, ctrl, status *os.File) (*child, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil, errors.New("spawner closed")
	}
	rights := unix.UnixRights(int(stdin.Fd()), int(ctrl.Fd()), int(status.Fd()))
	var serr error
	err := s.raw.Write(func(fd uintptr) bool {
		serr = unix.Sendmsg(int(fd), []byte("spawn"), rights, nil, 0)
		return !errors.Is(serr, unix.EAGAIN) && !errors.Is(serr, unix.EINTR)
	})
	if err = errors.Join(err, serr); err != nil {
		if errors.Is(err, unix.EPIPE) || errors.Is(err, unix.ECONNRESET) {
			err = errors.Join(errSpawnerGone, err)
		}
		return nil, fmt.Errorf("spawner request: %w", err)
	}
	buf := make([]byte, 512)
	var n int
	err = s.raw.Read(func(fd uintptr) bool {
		n, _, _, _, serr = unix.Recvmsg(int(fd), buf, nil, 0)
		return !errors.Is(serr, unix.EAGAIN) && !errors.Is(serr, unix.EINTR)
	})
	if err = errors.Join(err, serr); err != nil {
		return nil, fmt.Errorf("spawner answer: %w", err)
	}
	if n == 0 {
		return nil, fmt.Errorf("spawner answer: %w", errSpawnerGone)
	}
	msg := string(buf[:n])
	pidText, ok := strings.CutPrefix(msg, "pid ")
	if !ok {
		return nil, errors.New(strings.TrimPrefix(msg, "error: "))
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil {
		return nil, fmt.Errorf("spawner answer %q: %w", msg, err)
	}
	// Our child (CLONE_PARENT), not reaped before we wait for it: the pid
	// cannot have been reused, and Wait gets its status and rusage.
	return openChild(pid)
}

// close ends the spawner (the inits it started keep running).
func (s *spawner) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return
	}
	s.conn.Close() // the spawner exits on EOF
	s.conn = nil
	if s.bin != nil {
		s.bin.Close()
	}
	_ = s.proc.Kill()
	_, _ = s.proc.Wait()
	close(s.stop)
}

func retryEINTR(f func() error) error {
	for {
		err := f()
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// initAttr is how an init is cloned: in fresh namespaces, as sandboxUID
// inside, mapped to uid and gid outside. The spawner adds CLONE_PARENT.
func initAttr(uid, gid int, root bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS |
			syscall.CLONE_NEWNET | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS | syscall.CLONE_NEWCGROUP,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: sandboxUID, HostID: uid, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: sandboxUID, HostID: gid, Size: 1}},
		// As root we may keep setgroups allowed and so clear the
		// supplementary groups (root's would otherwise survive).
		GidMappingsEnableSetgroups: root,
		Credential:                 &syscall.Credential{Uid: sandboxUID, Gid: sandboxUID, Groups: []uint32{}, NoSetGroups: !root},
		// The init needs these, in its own user namespace only (so
		// over its own tmpfs and nothing of the host), to build the
		// root and the overlays; it drops every capability before the
		// exec.
		AmbientCaps: []uintptr{unix.CAP_SYS_ADMIN, unix.CAP_NET_ADMIN, unix.CAP_SETPCAP,
			unix.CAP_DAC_OVERRIDE, unix.CAP_DAC_READ_SEARCH, unix.CAP_FOWNER, unix.CAP_CHOWN, unix.CAP_MKNOD},
		// If the server dies, PID 1 dies and with it the namespace.
		// (Linux ties this to the thread that started the spawner, which
		// stays locked; see startSpawner.)
		Pdeathsig: syscall.SIGKILL,
		// A session (and process group) of its own: kill(0, sig) from
		// inside reaches the process group, across namespaces, and
		// every concurrent run has the same uid.
		Setsid: true,
	}
}

// runSpawner is the spawner's whole job (see spawner): answer requests
// until the server closes its end.
func runSpawner(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("spawner: want uid, gid, root, binary; got %q", args)
	}
	uid, err1 := strconv.Atoi(args[0])
	gid, err2 := strconv.Atoi(args[1])
	root, err3 := strconv.ParseBool(args[2])
	hasBin, err4 := strconv.ParseBool(args[3])
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return fmt.Errorf("spawner: %w", err)
	}
	attr := initAttr(uid, gid, root)
	attr.Cloneflags |= unix.CLONE_PARENT
	// The init's own environment (the program gets Spec.Env, never
	// this): one processor and no garbage collector, for a process that
	// lives a few milliseconds and allocates little; its runtime then
	// starts fewer threads and skips its periodic GOMAXPROCS checks.
	env := []string{"GOMAXPROCS=1", "GOGC=off"}
	path := "/proc/self/exe"
	var bin *os.File
	if hasBin {
		bin = os.NewFile(fdSpawnBinary, "init")
		path = fmt.Sprintf("/proc/self/fd/%d", fdInitBinary)
	}
	devnull := os.NewFile(1, "devnull") // the server gave us /dev/null
	buf := make([]byte, 64)
	oob := make([]byte, unix.CmsgSpace(3*4))
	for {
		var n, oobn int
		err := retryEINTR(func() (err error) {
			n, oobn, _, _, err = unix.Recvmsg(fdSpawnConn, buf, oob, unix.MSG_CMSG_CLOEXEC)
			return err
		})
		if err != nil {
			return fmt.Errorf("spawner: %w", err)
		}
		if n == 0 {
			return nil // the server closed its end
		}
		fds, err := parseRights(oob[:oobn])
		var answer string
		switch {
		case err != nil:
			answer = "error: spawner: " + err.Error()
		case len(fds) != 3:
			answer = fmt.Sprintf("error: spawner: %d descriptors, want 3", len(fds))
		default:
			stdin, ctrl, status := os.NewFile(uintptr(fds[0]), "stdin"), os.NewFile(uintptr(fds[1]), "ctrl"), os.NewFile(uintptr(fds[2]), "status")
			files := []*os.File{stdin, devnull, devnull, ctrl, status} // fdConfig, fdStatus
			if bin != nil {
				files = append(files, bin) // fdInitBinary
			}
			p, err := os.StartProcess(path, []string{initMarker}, &os.ProcAttr{Env: env, Files: files, Sys: attr})
			if err != nil {
				answer = "error: start sandbox init: " + err.Error()
			} else {
				answer = fmt.Sprintf("pid %d", p.Pid)
				_ = p.Release()
			}
			fds = nil
			for _, f := range []*os.File{stdin, ctrl, status} {
				f.Close()
			}
		}
		for _, fd := range fds {
			unix.Close(fd)
		}
		if err := retryEINTR(func() error { return unix.Sendmsg(fdSpawnConn, []byte(answer), nil, nil, 0) }); err != nil {
			return fmt.Errorf("spawner: %w", err)
		}
	}
}

// parseRights returns the descriptors of the SCM_RIGHTS messages in oob.
func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			return nil, err
		}
		fds = append(fds, got...)
	}
	return fds, nil
}
