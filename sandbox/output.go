//go:build linux && !playdoc_init

package sandbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Output is the program's stdout and stderr as one sequence of chunks in
// write order. The program's file descriptors 1 and 2 are two AF_UNIX
// datagram sockets connected to one receiving socket of ours: the kernel
// queues the datagrams of both in the order they were sent and stamps each
// with its send time, so neither the order across the streams nor the
// times depend on when we get to read them. (Two pipes read independently
// lose both.) The source address of each datagram tells the streams apart.
//
// A datagram socket has no end of file: once the process tree is gone
// (Process.Wait), the queue is drained and Next reports io.EOF.
type Output struct {
	f   *os.File // the receiving socket, non-blocking, in the netpoller
	raw interface {
		Read(func(uintptr) bool) error
	}
	ctl    interface{ Control(func(uintptr)) error }
	names  [2]string // autobound addresses of the stdout and stderr senders
	buf    []byte
	oob    []byte
	ended  atomic.Bool // every writer is gone: drain, then EOF
	eof    atomic.Bool // drained: io.EOF from now on
	closed sync.Once
	mu     sync.Mutex   // one reader at a time
	read   atomic.Int64 // when Next last returned, in Unix ns
}

// recvBuf is the receive buffer a chunk is read into unless the next
// datagram is larger.
const recvBuf = 64 << 10

// newOutput makes the receiving socket and the two sending ones, which
// become the program's stdout and stderr. The receiver is bound at
// dir/name (dir private to us: Sandbox's outDir, made once, not a folder
// per run) until the senders are connected. netns, when not empty, is the
// network namespace the senders are created in: a socket belongs to the
// namespace it was created in, and abstract socket names that the program
// could send to through its stdout (sendto on a connected datagram socket
// may name another address) are looked up there. The program's own
// namespace holds nothing but what it makes itself.
func newOutput(dir, name, netns string, root bool) (_ *Output, senders [2]*os.File, err error) {
	rx, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, senders, fmt.Errorf("output socket: %w", err)
	}
	o := &Output{f: os.NewFile(uintptr(rx), "output"), oob: make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{}))))}
	defer func() {
		if err != nil {
			o.close()
			for _, s := range senders {
				if s != nil {
					s.Close()
				}
			}
		}
	}()
	addr := &unix.SockaddrUnix{Name: filepath.Join(dir, name)}
	if err := unix.Bind(rx, addr); err != nil {
		return nil, senders, fmt.Errorf("output socket: bind: %w", err)
	}
	// The path exists only until the senders are connected.
	defer unix.Unlink(addr.Name)
	if err := unix.SetsockoptInt(rx, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return nil, senders, fmt.Errorf("output socket: SO_TIMESTAMPNS: %w", err)
	}
	sc, err := o.f.SyscallConn()
	if err != nil {
		return nil, senders, fmt.Errorf("output socket: %w", err)
	}
	o.raw, o.ctl = sc, sc
	mk := func() error {
		for i := range senders {
			fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("output sender: %w", err)
			}
			senders[i] = os.NewFile(uintptr(fd), Stream(i+1).String())
			// Autobind: an abstract name of the kernel's choosing, which
			// the receiver sees as the source of each datagram.
			if err := unix.Bind(fd, &unix.SockaddrUnix{}); err != nil {
				return fmt.Errorf("output sender: autobind: %w", err)
			}
			// A datagram is all or nothing: the send buffer bounds the
			// largest write.
			if err := setSendBuffer(fd, root); err != nil {
				return fmt.Errorf("output sender: %w", err)
			}
			if err := unix.Connect(fd, addr); err != nil {
				return fmt.Errorf("output sender: connect: %w", err)
			}
			sa, err := unix.Getsockname(fd)
			if err != nil {
				return fmt.Errorf("output sender: %w", err)
			}
			su, ok := sa.(*unix.SockaddrUnix)
			if !ok || su.Name == "" {
				return errors.New("output sender: no autobound address")
			}
			o.names[i] = su.Name
		}
		return nil
	}
	if netns == "" {
		err = mk()
	} else {
		err = inNetns(netns, mk)
	}
	if err != nil {
		return nil, senders, err
	}
	return o, senders, nil
}

// outDirPrefix begins the name of a Sandbox's output folder in the
// temporary directory: outDirPrefix, the server's pid, "-", a random
// suffix.
const outDirPrefix = "playdoc-out-"

// removeStaleOutDirs removes the output folders in tmp of servers that are
// gone (no /proc/PID): a server killed without Close leaves its folder.
// Folders of live processes, and names not in that form, stay.
func removeStaleOutDirs(tmp string) {
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), outDirPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pid, _, ok := strings.Cut(rest, "-")
		if _, err := strconv.Atoi(pid); !ok || err != nil {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); err == nil {
			continue
		}
		os.RemoveAll(filepath.Join(tmp, e.Name()))
	}
}

// inNetns runs f on an OS thread that has joined the network namespace at
// path. The thread goes back to ours afterwards; if it cannot, it is not
// unlocked, so Go ends it rather than reuse it.
func inNetns(path string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("own network namespace: %w", err)
			return
		}
		defer unix.Close(self)
		target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("sandbox network namespace: %w", err)
			return
		}
		err = unix.Setns(target, unix.CLONE_NEWNET)
		unix.Close(target)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("join the sandbox network namespace: %w", err)
			return
		}
		ferr := f()
		if err := unix.Setns(self, unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("leave the sandbox network namespace: %w", err))
			return // the thread stays locked and dies with this goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// Next returns the next chunk the program wrote, waiting for one if need
// be. It returns io.EOF once the process tree is gone and every chunk has
// been returned, and os.ErrClosed once the output was closed unread (Kill,
// or nobody read it within a few seconds of the end). Chunk.Data stays
// valid after later calls.
func (o *Output) Next() (Chunk, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	defer func() { o.read.Store(time.Now().UnixNano()) }()
	for {
		if o.eof.Load() {
			return Chunk{}, io.EOF
		}
		c, ok, err := o.next()
		if err != nil || ok {
			return c, err
		}
	}
}

// next makes one attempt; ok false with a nil error means try again (a
// datagram of no bytes, or of an unknown sender).
func (o *Output) next() (c Chunk, ok bool, err error) {
	var n, oobn int
	var from unix.Sockaddr
	var rerr error
	recv := func(fd uintptr) bool {
		// The next datagram's size, so that it is never truncated.
		size, err := unix.IoctlGetInt(int(fd), unix.SIOCINQ)
		if err != nil {
			rerr = err
			return true
		}
		if cap(o.buf) < max(size, recvBuf) {
			o.buf = make([]byte, max(size, recvBuf))
		}
		o.buf = o.buf[:cap(o.buf)]
		for {
			n, oobn, _, from, rerr = unix.Recvmsg(int(fd), o.buf, o.oob, unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
			if rerr != unix.EINTR {
				break
			}
		}
		return rerr != unix.EAGAIN
	}
	if o.ended.Load() {
		// Every writer is gone: what is queued is all there is.
		if err := o.ctl.Control(func(fd uintptr) { recv(fd) }); err != nil {
			return c, false, err
		}
		if rerr == unix.EAGAIN {
			o.eof.Store(true)
			o.close()
			return c, false, io.EOF
		}
	} else if err := o.raw.Read(recv); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return c, false, nil // ended while waiting: drain
		}
		return c, false, err
	}
	if rerr != nil {
		return c, false, fmt.Errorf("read program output: %w", rerr)
	}
	if n == 0 {
		return c, false, nil
	}
	c.At = time.Now()
	if msgs, err := unix.ParseSocketControlMessage(o.oob[:oobn]); err == nil {
		for _, m := range msgs {
			if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})) {
				ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
				c.At = time.Unix(ts.Unix())
			}
		}
	}
	su, _ := from.(*unix.SockaddrUnix)
	switch {
	case su == nil:
		return c, false, nil
	case su.Name == o.names[0]:
		c.Stream = Stdout
	case su.Name == o.names[1]:
		c.Stream = Stderr
	default:
		return c, false, nil // nobody else can reach the socket; ignore
	}
	c.Data = append([]byte(nil), o.buf[:n]...)
	return c, true, nil
}

// end says every writer is gone: a reader waiting for more drains the
// queue instead and then sees io.EOF.
func (o *Output) end() {
	o.ended.Store(true)
	_ = o.f.SetReadDeadline(time.Unix(1, 0))
}

// closeWhenIdle closes the output once nobody has read it for d: a
// reader still busy (a slow client) gets all of it.
func (o *Output) closeWhenIdle(d time.Duration) {
	o.read.Store(time.Now().UnixNano())
	var check func()
	check = func() {
		idle := time.Since(time.Unix(0, o.read.Load()))
		if o.eof.Load() || idle >= d {
			o.close()
			return
		}
		time.AfterFunc(d-idle, check)
	}
	time.AfterFunc(d, check)
}

// close releases the socket; a later Next fails with os.ErrClosed.
func (o *Output) close() {
	o.closed.Do(func() {
		o.ended.Store(true)
		o.f.Close()
	})
}

// maxDatagram is the largest write the output senders carry, in bytes: the
// send buffer Output sets (SO_SNDBUFFORCE as root, else SO_SNDBUF, which
// the kernel caps at net.core.wmem_max and doubles), less the 32 bytes
// unix_dgram_sendmsg keeps back (net/unix/af_unix.c), and at most
// MaxWrite.
func maxDatagram(root bool) (int, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("output socket probe: %w", err)
	}
	defer unix.Close(fd)
	if err := setSendBuffer(fd, root); err != nil {
		return 0, fmt.Errorf("output socket probe: %w", err)
	}
	got, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF)
	if err != nil {
		return 0, fmt.Errorf("output socket probe: send buffer: %w", err)
	}
	return min(MaxWrite, got-32), nil
}

// setSendBuffer asks for a send buffer of MaxWrite bytes: past
// net.core.wmem_max with SO_SNDBUFFORCE as root, which needs CAP_NET_ADMIN
// in the host's network namespace (root of a user namespace lacks it and
// gets the capped SO_SNDBUF instead).
func setSendBuffer(fd int, root bool) error {
	err := error(unix.EPERM)
	if root {
		err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, MaxWrite)
	}
	if errors.Is(err, unix.EPERM) {
		err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, MaxWrite)
	}
	if err != nil {
		return fmt.Errorf("send buffer: %w", err)
	}
	return nil
}
