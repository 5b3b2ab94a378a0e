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
	"time"

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
// server, which so never clones from its own large address space and
// keeps no privilege in the process that does: the spawner is the init
// program (a few MB), started once, as the inits' host uid. It clones each
// init with CLONE_PARENT, so the init is still our child (we wait for it
// and get its exit status and rusage) and its parent-death signal is tied
// to our thread that started the spawner. See initAttr for the clone.
//
// One request at a time: a SOCK_SEQPACKET message carrying the init's
// stdin, control socket and status pipe; the answer is "pid N", "error:
// ..." or, for an init started and then killed, "error pid N: ..." (ours
// to reap).
type spawner struct {
	mu   sync.Mutex
	conn *os.File // our end of the request socket, non-blocking (in the netpoller); nil once closed
	raw  syscall.RawConn
	proc *os.Process
	stop chan struct{} // closed by close: lets the starting thread go
	// patience bounds the wait for an answer (0: spawnPatience).
	patience time.Duration

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
// sandboxUID inside; root says whether we are root, and so start the
// spawner as uid and gid (see mapIDs). The spawner owns bin from now on,
// also when starting fails.
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
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if root {
		// The spawner needs no privilege of ours: it runs as the inits'
		// host uid, whose ids it maps (see mapIDs), without our groups.
		attr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// One processor: the spawner serves one request at a time;
		// fewer threads and per-processor caches.
		p, err := os.StartProcess(path, []string{spawnerMarker, strconv.Itoa(uid), strconv.Itoa(gid), strconv.FormatBool(bin != nil)},
			&os.ProcAttr{Env: []string{"GOMAXPROCS=1"}, Files: files, Sys: attr})
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

// spawnPatience bounds the wait for the spawner's answer to one request:
// a clone and an exec, milliseconds even in a burst (the requests queue on
// spawner.mu, outside this bound). A spawner that takes longer is stuck
// (a clone that never returns), and a caller must not wait on it forever.
const spawnPatience = 10 * time.Second

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
	patience := s.patience
	if patience <= 0 {
		patience = spawnPatience
	}
	_ = s.conn.SetReadDeadline(time.Now().Add(patience))
	err = s.raw.Read(func(fd uintptr) bool {
		n, _, _, _, serr = unix.Recvmsg(int(fd), buf, nil, 0)
		return !errors.Is(serr, unix.EAGAIN) && !errors.Is(serr, unix.EINTR)
	})
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// A spawner that answers late would answer the next request
		// with this one's pid: it is ended, and the next spawn starts a
		// replacement (errSpawnerGone). An init it may still start gets
		// EOF on its control socket and exits.
		_ = s.proc.Kill()
		return nil, fmt.Errorf("spawner answer: none within %v: %w", patience, errSpawnerGone)
	}
	if err = errors.Join(err, serr); err != nil {
		return nil, fmt.Errorf("spawner answer: %w", err)
	}
	if n == 0 {
		return nil, fmt.Errorf("spawner answer: %w", errSpawnerGone)
	}
	msg := string(buf[:n])
	if rest, ok := strings.CutPrefix(msg, "error pid "); ok {
		// An init that was started and killed: ours to reap.
		pidText, text, _ := strings.Cut(rest, ": ")
		if pid, err := strconv.Atoi(pidText); err == nil {
			if c, err := openChild(pid); err == nil {
				go c.Wait()
			}
		}
		return nil, errors.New(text)
	}
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

// initAttr is how an init is cloned: in fresh namespaces, with the
// spawner's own uid and gid (see mapIDs). The spawner adds CLONE_PARENT.
//
// The clone is a vfork (CLONE_VFORK|CLONE_VM): the child runs in the
// spawner's memory until its exec. Go vforks by itself only a child
// without a new user namespace, because with UidMappings its child would
// wait for its parent, stopped by the vfork, to write the maps; a fork
// instead copies the spawner's page tables, faults on each page either
// side writes next and has the child tear the copy down at its exec,
// about 7 ms of CPU per init on a VM where page-table changes trap to the
// host (BenchmarkSpawnCost). Go passes Cloneflags as given, so the flags
// ask for the vfork, there are no UidMappings to wait for, and mapIDs
// writes the maps once the child has exec'd, before anyone sends it a
// config. Until then its ids are unmapped inside (it owns nothing and
// creates no file), and outside they are the spawner's own, as after.
func initAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_VFORK | syscall.CLONE_VM |
			syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS |
			syscall.CLONE_NEWNET | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS | syscall.CLONE_NEWCGROUP,
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

// mapIDs maps sandboxUID inside pid's user namespace to uid and gid
// outside, the spawner's own ids (the only ones a process without
// CAP_SETUID over the host may map, and as root the spawner runs as
// sandboxUID; see startSpawner). setgroups(2) is denied inside first, as
// the kernel wants for such a gid map: the init then keeps the spawner's
// supplementary groups, none as root.
func mapIDs(pid, uid, gid int) error {
	for _, w := range [][2]string{
		{"setgroups", "deny"},
		{"gid_map", fmt.Sprintf("%d %d 1\n", sandboxUID, gid)},
		{"uid_map", fmt.Sprintf("%d %d 1\n", sandboxUID, uid)},
	} {
		path := fmt.Sprintf("/proc/%d/%s", pid, w[0])
		fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("map ids: %w", &os.PathError{Op: "open", Path: path, Err: err})
		}
		_, err = unix.Write(fd, []byte(w[1]))
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("map ids: %w", &os.PathError{Op: "write", Path: path, Err: err})
		}
	}
	return nil
}

// runSpawner is the spawner's whole job (see spawner): answer requests
// until the server closes its end.
func runSpawner(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("spawner: want uid, gid, binary; got %q", args)
	}
	uid, err1 := strconv.Atoi(args[0])
	gid, err2 := strconv.Atoi(args[1])
	hasBin, err3 := strconv.ParseBool(args[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return fmt.Errorf("spawner: %w", err)
	}
	attr := initAttr()
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
			} else if err := mapIDs(p.Pid, uid, gid); err != nil {
				// Killed, and named so that the server, its parent
				// (CLONE_PARENT), reaps it.
				_ = p.Kill()
				answer = fmt.Sprintf("error pid %d: start sandbox init: %v", p.Pid, err)
				_ = p.Release()
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
