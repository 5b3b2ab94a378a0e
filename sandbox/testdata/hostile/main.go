// Command hostile is what the sandbox tests run inside the sandbox: each
// mode (argv[1]) tries one way to escape or exhaust it and prints what
// happened, one "key: value" line per attempt.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Println("usage: hostile MODE [args]")
		os.Exit(2)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "hello":
		fmt.Println("hello from the sandbox")
		fmt.Fprintln(os.Stderr, "to stderr")
	case "fds":
		// Every descriptor the program holds, and where it points.
		d, err := os.Open("/proc/self/fd")
		if err != nil {
			report("fds", err)
			return
		}
		names, err := d.Readdirnames(-1)
		if err != nil {
			report("fds", err)
			return
		}
		for _, n := range names {
			target, err := os.Readlink("/proc/self/fd/" + n)
			fmt.Printf("fd %s: %s %v\n", n, target, err)
		}
		d.Close()
	case "fd3":
		// Writes its argument to descriptor 3 (Spec.ExtraOutput), and says
		// what descriptor 3 is.
		target, err := os.Readlink("/proc/self/fd/3")
		fmt.Printf("fd 3: %s %v\n", target, err)
		_, err = os.NewFile(3, "extra").Write([]byte(args[0]))
		report("write fd 3", err)
	case "interleave":
		// N lines to stderr and stdout by turns, each its own write.
		n, _ := strconv.Atoi(args[0])
		for i := 0; i < n; i++ {
			fmt.Fprintln(os.Stderr, "error", i)
			fmt.Println("output", i)
		}
	case "writes":
		// Each argument is one write (Go-quoted), to stdout, or to stderr
		// when prefixed with "2:"; "sleep:D" pauses.
		for _, a := range args {
			if d, ok := strings.CutPrefix(a, "sleep:"); ok {
				dur, _ := time.ParseDuration(d)
				time.Sleep(dur)
				continue
			}
			w := os.Stdout
			if rest, ok := strings.CutPrefix(a, "2:"); ok {
				w, a = os.Stderr, rest
			}
			b, err := strconv.Unquote(a)
			if err != nil {
				b = a
			}
			w.Write([]byte(b))
		}
	case "alloc":
		// Allocate and touch N MiB, keep it until the end.
		n, _ := strconv.Atoi(args[0])
		b := make([]byte, n<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		fmt.Println("allocated", len(b)>>20, "MiB", b[len(b)/2] >= 0)
	case "bigwrite", "bigwrite-stderr", "bigwrite-dup":
		// One write of N bytes of 'x' and a newline (to stdout, stderr or
		// a dup of stdout), then its result on stderr.
		n, _ := strconv.Atoi(args[0])
		b := []byte(strings.Repeat("x", n) + "\n")
		w := os.Stdout
		switch os.Args[1] {
		case "bigwrite-stderr":
			w = os.Stderr
		case "bigwrite-dup":
			fd, err := syscall.Dup(1)
			if err != nil {
				fmt.Fprintln(os.Stderr, "dup:", err)
				return
			}
			w = os.NewFile(uintptr(fd), "stdout-dup")
		}
		m, err := w.Write(b)
		fmt.Fprintf(os.Stderr, "wrote %d of %d: %v\n", m, len(b), err)
	case "stdoutescape":
		// Send through the stdout socket to an abstract name, and re-aim it.
		addr := &syscall.SockaddrUnix{Name: "@" + args[0]}
		report("sendto", syscall.Sendto(1, []byte("escaped\n"), 0, addr))
		report("connect", syscall.Connect(1, addr))
		fmt.Fprintln(os.Stderr, "still on stderr")
	case "cat":
		n, err := io.Copy(os.Stdout, os.Stdin)
		fmt.Fprintf(os.Stderr, "copied %d bytes, err=%v\n", n, err)
	case "exit":
		code, _ := strconv.Atoi(args[0])
		os.Exit(code)
	case "whoami":
		whoami()
	case "env":
		fmt.Printf("environ: %q\n", os.Environ())
		for _, p := range []string{"/proc/self/environ", "/proc/1/environ"} {
			b, err := os.ReadFile(p)
			fmt.Printf("%s: %q %v\n", p, b, err)
		}
	case "read":
		for _, p := range args {
			report(p, readPath(p))
		}
	case "write":
		for _, p := range args {
			report(p, os.WriteFile(p, []byte("pwned"), 0o644))
		}
	case "ls":
		for _, p := range args {
			ents, err := os.ReadDir(p)
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			fmt.Printf("%s: %s %v\n", p, strings.Join(names, " "), err)
		}
	case "mark":
		// Leave a trace, show it, and linger so another run can look.
		report("mark", os.WriteFile("/tmp/mark-"+args[0], []byte(args[0]), 0o644))
		fmt.Println("ready")
		time.Sleep(time.Hour)
	case "dial":
		for _, a := range args {
			c, err := net.DialTimeout("tcp", a, 2*time.Second)
			if err == nil {
				c.Close()
			}
			report("dial "+a, err)
		}
	case "dns":
		_, err := net.LookupHost("example.com")
		report("lookup", err)
	case "selfserver":
		selfServer()
	case "raw":
		_, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_ICMP)
		report("raw", err)
		_, err = syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, 0)
		report("packet", err)
		_, err = syscall.Socket(40 /* AF_VSOCK */, syscall.SOCK_STREAM, 0)
		report("vsock", err)
		_, err = syscall.Socket(38 /* AF_ALG */, syscall.SOCK_SEQPACKET, 0)
		report("alg", err)
		_, err = syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW, 21 /* NETLINK_CRYPTO */)
		report("netlink crypto", err)
		_, err = syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW, syscall.NETLINK_AUDIT)
		report("netlink audit", err)
	case "syscalls":
		syscalls()
	case "rawsyscall":
		// NAME=NUMBER...: each call made with all arguments zero.
		for _, a := range args {
			name, nr, _ := strings.Cut(a, "=")
			n, _ := strconv.Atoi(nr)
			_, _, e := syscall.RawSyscall6(uintptr(n), 0, 0, 0, 0, 0, 0)
			report(name, errnoErr(e))
		}
	case "compat32":
		for k, err := range compat32() {
			report(k, err)
		}
	case "ptrace":
		cmd := exec.Command("/prog", "sleep")
		report("start child", cmd.Start())
		if cmd.Process != nil {
			report("attach", syscall.PtraceAttach(cmd.Process.Pid))
			cmd.Process.Kill()
		}
	case "setuid":
		report("setuid", syscall.Setuid(0))
		report("setgid", syscall.Setgid(0))
	case "newuser":
		cmd := exec.Command("/prog", "hello")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS}
		report("clone newuser", cmd.Run())
		report("unshare", syscall.Unshare(syscall.CLONE_NEWUSER))
		_, _, e := syscall.RawSyscall(435 /* clone3 */, 0, 0, 0)
		report("clone3", errnoErr(e))
	case "kill":
		report("kill -1", syscall.Kill(-1, syscall.SIGKILL))
		report("kill ppid", syscall.Kill(os.Getppid(), syscall.SIGKILL))
		report("kill pgrp", syscall.Kill(-syscall.Getpgrp(), syscall.SIGKILL))
		for _, a := range args {
			pid, _ := strconv.Atoi(a)
			report("kill "+a, syscall.Kill(pid, syscall.SIGKILL))
		}
		fmt.Println("still here")
	case "forkbomb":
		forkBomb()
	case "sleep":
		fmt.Println("sleeping")
		time.Sleep(time.Hour)
	case "ignorequit":
		signal.Ignore(syscall.SIGQUIT)
		fmt.Println("sleeping")
		time.Sleep(time.Hour)
	case "busy":
		fmt.Println("spinning")
		spin(runtime.NumCPU())
	case "memory":
		memoryBomb()
	case "fill":
		fill(args[0])
	case "bigfile":
		f, err := os.Create(args[0])
		if err != nil {
			report("create", err)
			return
		}
		buf := make([]byte, 1<<20)
		total := 0
		for {
			n, err := f.Write(buf)
			total += n
			if err != nil {
				fmt.Printf("wrote %d bytes\n", total)
				report("write", err)
				return
			}
		}
	case "flood":
		buf := []byte(strings.Repeat("flood ", 1000) + "\n")
		for {
			if _, err := os.Stdout.Write(buf); err != nil {
				return
			}
		}
	case "goroutines":
		var wg sync.WaitGroup
		var mu sync.Mutex
		n := 0
		for i := 0; i < 10000; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(100 * time.Millisecond)
				mu.Lock()
				n++
				mu.Unlock()
			}()
		}
		wg.Wait()
		fmt.Println("goroutines done:", n)
	case "threads":
		threads()
	default:
		fmt.Println("unknown mode", os.Args[1])
		os.Exit(2)
	}
}

func report(what string, err error) {
	if err != nil {
		fmt.Printf("%s: error: %v\n", what, err)
		return
	}
	fmt.Printf("%s: ok\n", what)
}

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func readPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.ReadAll(io.LimitReader(f, 1<<20))
	return err
}

func whoami() {
	fmt.Println("uid:", os.Getuid(), "euid:", os.Geteuid(), "gid:", os.Getgid())
	groups, err := os.Getgroups()
	fmt.Println("groups:", groups, err)
	fmt.Println("pid:", os.Getpid(), "ppid:", os.Getppid())
	h, _ := os.Hostname()
	fmt.Println("hostname:", h)
	f, err := os.Open("/proc/self/status")
	if err != nil {
		report("status", err)
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		for _, k := range []string{"Cap", "NoNewPrivs", "Seccomp:", "Uid", "Gid"} {
			if strings.HasPrefix(line, k) {
				fmt.Println(strings.Join(strings.Fields(line), " "))
			}
		}
	}
	b, _ := os.ReadFile("/proc/self/cgroup")
	fmt.Printf("cgroup: %q\n", strings.TrimSpace(string(b)))
	ents, err := os.ReadDir("/")
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if err != nil {
		report("root", err)
	} else {
		fmt.Println("root:", strings.Join(names, " "))
	}
	ifs, err := net.Interfaces()
	var ifnames []string
	for _, i := range ifs {
		ifnames = append(ifnames, i.Name+"/"+i.Flags.String())
	}
	fmt.Println("interfaces:", strings.Join(ifnames, " "), err)
}

// selfServer serves on the sandbox's own loopback and connects to itself.
// Plain TCP, not net/http: the exchange over loopback is the point, and
// net/http with its TLS stack is most of what this program's build
// compiles (issue 8).
func selfServer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		report("listen", err)
		return
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprint(c, "served inside")
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		report("dial", err)
		return
	}
	b, _ := io.ReadAll(c)
	c.Close()
	fmt.Printf("body: %s\n", b)
	ln2, err := net.Listen("tcp", "localhost:0")
	report("listen localhost", err)
	if err == nil {
		ln2.Close()
	}
}

func syscalls() {
	try := func(name string, nr uintptr, a ...uintptr) {
		for len(a) < 6 {
			a = append(a, 0)
		}
		_, _, e := syscall.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
		report(name, errnoErr(e))
	}
	var params [120]byte
	try("io_uring_setup", 425, 8, uintptr(unsafe.Pointer(&params[0])))
	try("bpf", 321, 0, 0, 0)
	try("keyctl", 250, 0, 0)
	try("add_key", 248, 0, 0, 0, 0, 0)
	try("perf_event_open", syscall.SYS_PERF_EVENT_OPEN, 0, 0, 0, 0, 0)
	try("userfaultfd", 323, 0)
	try("personality", syscall.SYS_PERSONALITY, 0x0040000)
	try("chroot", syscall.SYS_CHROOT, uintptr(unsafe.Pointer(&[]byte("/tmp\x00")[0])))
	try("unshare", syscall.SYS_UNSHARE, syscall.CLONE_NEWNS)
	try("setns", 308, 0, 0)
	try("reboot", syscall.SYS_REBOOT, 0xfee1dead, 672274793, 0x4321fedc)
	try("settimeofday", syscall.SYS_SETTIMEOFDAY, 0, 0)
	try("acct", syscall.SYS_ACCT, 0)
	try("open_by_handle_at", 304, 0, 0, 0)
	try("process_vm_readv", 310, 1, 0, 0, 0, 0, 0)
	err := syscall.Mount("tmpfs", "/tmp", "tmpfs", 0, "")
	report("mount", err)
	err = syscall.Unmount("/proc", syscall.MNT_DETACH)
	report("umount", err)
	err = syscall.Sethostname([]byte("pwned"))
	report("sethostname", err)
}

func spin(n int) {
	for i := 0; i < n; i++ {
		go func() {
			for {
			}
		}()
	}
	for {
	}
}

func forkBomb() {
	// Every process starts copies of itself until the kernel says no.
	n := 0
	for {
		cmd := exec.Command("/prog", "forkbomb")
		if err := cmd.Start(); err != nil {
			if n == 0 || os.Getpid() == 1 {
				fmt.Printf("fork failed after %d: %v\n", n, err)
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		n++
	}
}

func memoryBomb() {
	var chunks [][]byte
	for i := 1; i <= 2048; i++ {
		c := make([]byte, 1<<20)
		for j := 0; j < len(c); j += 4096 {
			c[j] = 1
		}
		chunks = append(chunks, c)
		if i%64 == 0 {
			fmt.Printf("allocated %d MiB\n", i)
		}
	}
	fmt.Println("allocated 2 GiB: not contained")
}

func fill(dir string) {
	buf := make([]byte, 1<<20)
	total := 0
	for i := 0; ; i++ {
		f, err := os.Create(fmt.Sprintf("%s/fill-%d", dir, i))
		if err != nil {
			fmt.Printf("filled %d MiB\n", total>>20)
			report("create", err)
			return
		}
		for k := 0; k < 8; k++ {
			n, err := f.Write(buf)
			total += n
			if err != nil {
				f.Close()
				fmt.Printf("filled %d MiB\n", total>>20)
				report("write", err)
				return
			}
		}
		f.Close()
	}
}

func threads() {
	// Each goroutine pins a thread in a blocking syscall.
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		report("pipe", err)
		return
	}
	for i := 0; i < 10000; i++ {
		go func() {
			runtime.LockOSThread()
			var b [1]byte
			syscall.Read(fds[0], b[:])
		}()
		if i%100 == 0 {
			time.Sleep(10 * time.Millisecond)
			fmt.Println("threads started:", i)
		}
	}
	time.Sleep(time.Second)
	fmt.Println("10000 threads: not contained")
}
