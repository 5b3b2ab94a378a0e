//go:build linux && !playdoc_init

package sandbox

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// deniedSyscalls are refused with EPERM to both profiles: nothing a Go
// program or the Go toolchain needs, and each one either reaches outside the
// sandbox or widens the kernel's attack surface.
var deniedSyscalls = []string{
	// file systems and the root
	"mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount",
	"fspick", "move_mount", "open_tree", "mount_setattr", "quotactl", "quotactl_fd",
	"open_by_handle_at", "name_to_handle_at", "swapon", "swapoff", "sysfs", "ustat",
	"uselib", "lookup_dcookie", "fanotify_init",
	// namespaces
	"unshare", "setns",
	// other processes
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	"migrate_pages", "move_pages",
	// kernel objects and facilities
	"bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"kexec_load", "kexec_file_load", "reboot", "init_module", "finit_module",
	"delete_module", "acct", "syslog", "vhangup", "iopl", "ioperm", "personality",
	// the clock and host identity
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"sethostname", "setdomainname",
}

// allowedSyscalls is the allow-list (the approach of Docker's default
// profile and gVisor's filters): every system call that Go programs and
// their runtime, the Go toolchain (go, compile, link, asm, vet) and
// Debian's python3 make, grouped by what they are for. Anything else,
// including every call added to the kernel after this list was written,
// fails with ENOSYS, which programs and libcs read as "not supported here"
// and fall back from (statx → fstatat, clone3 → clone, rseq → none).
// Calls in deniedSyscalls are refused with EPERM before this list is read.
var allowedSyscalls = []string{
	// memory
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync",
	"mlock", "munlock", "mlock2", "membarrier", "get_mempolicy",
	// threads, signals, time
	"clone", "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
	"futex", "set_robust_list", "get_robust_list", "set_tid_address", "rseq", "arch_prctl",
	"gettid", "getpid", "getppid", "tgkill", "tkill", "kill", "pidfd_open", "pidfd_send_signal",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait",
	"rt_sigqueueinfo", "rt_tgsigqueueinfo", "rt_sigsuspend", "sigaltstack", "restart_syscall",
	"pause", "alarm", "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres",
	"gettimeofday", "time", "getitimer", "setitimer",
	"timer_create", "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete",
	"timerfd_create", "timerfd_settime", "timerfd_gettime", "signalfd", "signalfd4",
	"sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam",
	"sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
	"sched_get_priority_min", "sched_rr_get_interval", "getcpu",
	"getpriority", "setpriority", "prctl", "capget", "capset",
	// identity and limits (changing them fails without capabilities)
	"getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid", "getresgid",
	"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
	"setfsuid", "setfsgid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
	"getrlimit", "setrlimit", "prlimit64", "getrusage", "times", "sysinfo", "uname", "umask",
	"getrandom",
	// files and descriptors
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
	"preadv2", "pwritev2", "open", "openat", "openat2", "creat", "close", "close_range",
	"lseek", "dup", "dup2", "dup3", "fcntl", "flock", "ioctl", "pipe", "pipe2",
	"stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs",
	"access", "faccessat", "faccessat2", "readlink", "readlinkat",
	"getdents", "getdents64", "getcwd", "chdir", "fchdir",
	"mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2",
	"link", "linkat", "symlink", "symlinkat", "mknod", "mknodat",
	"chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
	"truncate", "ftruncate", "fallocate", "fadvise64", "readahead",
	"fsync", "fdatasync", "sync", "syncfs", "sync_file_range",
	"utime", "utimes", "futimesat", "utimensat",
	"getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr",
	"copy_file_range", "sendfile", "splice", "tee", "vmsplice", "memfd_create",
	"inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
	"eventfd", "eventfd2",
	"select", "pselect6", "poll", "ppoll",
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
	// System V IPC: the ipc namespace is the run's own.
	"shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl",
	"msgget", "msgsnd", "msgrcv", "msgctl",
	// sockets (families are checked before this list)
	"socket", "socketpair", "bind", "listen", "accept", "accept4", "connect",
	"getsockname", "getpeername", "setsockopt", "getsockopt", "shutdown",
	"sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
}

// namespaceCloneFlags are the clone(2) flags that would create namespaces.
const namespaceCloneFlags = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS |
	unix.CLONE_NEWIPC | unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET

// seccompPolicy builds the filter for a profile: the deny-list and the
// conditional refusals first (EPERM, so programs get a clear error), then
// the allow-list; every other call fails with ENOSYS.
func seccompPolicy(p Profile) seccomp.Policy {
	enosys := seccomp.ActionErrno | seccomp.Action(unix.ENOSYS)
	var groups []seccomp.SyscallGroup
	groups = append(groups, []seccomp.SyscallGroup{
		{Action: seccomp.ActionErrno, Names: deniedSyscalls},
		// clone3 passes its flags in memory, out of the filter's reach:
		// ENOSYS makes Go and glibc fall back to clone, whose flags we check.
		{Action: enosys, Names: []string{"clone3"}},
		{Action: seccomp.ActionErrno, NamesWithCondtions: []seccomp.NameWithConditions{
			{Name: "clone", Conditions: seccomp.ArgumentConditions{
				{Argument: 0, Operation: seccomp.BitsSet, Value: namespaceCloneFlags},
			}},
			// The program is PID 1 of its namespace; if it could drop the
			// parent-death signal it might outlive a crashed server.
			{Name: "prctl", Conditions: seccomp.ArgumentConditions{
				{Argument: 0, Operation: seccomp.Equal, Value: unix.PR_SET_PDEATHSIG},
			}},
		}},
	}...)
	// Sockets: local (unix), IP and netlink route (queries in the private
	// network namespace) only; no packet, vsock, alg, key, bluetooth, ...
	// The build profile needs no IP at all (GOPROXY=off).
	socketOK := []uint64{unix.AF_UNIX, unix.AF_INET, unix.AF_INET6, unix.AF_NETLINK}
	if p == ProfileBuild {
		socketOK = []uint64{unix.AF_UNIX, unix.AF_NETLINK}
	}
	var notAllowed seccomp.ArgumentConditions
	for _, af := range socketOK {
		notAllowed = append(notAllowed, seccomp.Condition{Argument: 0, Operation: seccomp.NotEqual, Value: af})
	}
	groups = append(groups, seccomp.SyscallGroup{
		Action: seccomp.ActionErrno,
		NamesWithCondtions: []seccomp.NameWithConditions{
			{Name: "socket", Conditions: notAllowed},
			{Name: "socketpair", Conditions: notAllowed},
			// Of netlink, only the routing family (net.Interfaces).
			{Name: "socket", Conditions: seccomp.ArgumentConditions{
				{Argument: 0, Operation: seccomp.Equal, Value: unix.AF_NETLINK},
				{Argument: 2, Operation: seccomp.NotEqual, Value: unix.NETLINK_ROUTE},
			}},
		},
	})
	// Allow what passed: seccompProgram puts the allow-list in front, so
	// only listed (or denied) calls get here. The library cannot put it
	// after the argument checks: a failed argument check leaves the
	// argument, not the call's number, for the groups that follow.
	return seccomp.Policy{DefaultAction: seccomp.ActionAllow, Syscalls: groups}
}

// seccompProgram assembles the profile's filter into the classic BPF the
// kernel loads. The parent does it once per Sandbox; the init only loads it.
// maxWrite (bytes, > 0) is the largest write(2) the program's stdout and
// stderr datagram sockets carry (see writeLimitStage).
func seccompProgram(p Profile, maxWrite int) ([]unix.SockFilter, error) {
	policy := seccompPolicy(p)
	insns, err := policy.Assemble()
	if err != nil {
		return nil, fmt.Errorf("assemble seccomp policy: %w", err)
	}
	native, err := arch.GetInfo("")
	if err != nil {
		return nil, fmt.Errorf("seccomp architecture: %w", err)
	}
	allow, err := dispatchStage(native, checkedSyscalls(policy, p))
	if err != nil {
		return nil, err
	}
	// The library's program allows every call of a foreign architecture:
	// on amd64 that is the whole i386 ABI (int $0x80), where unshare,
	// ptrace, mount, ... have other numbers. No Go program uses it.
	head := []bpf.Instruction{
		bpf.LoadAbsolute{Off: 4, Size: 4}, // seccomp_data.arch
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(native.ID), SkipTrue: 1},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)},
	}
	head = append(head, allow...)
	if p == ProfileProgram {
		head = append(head, writeLimitStage(native, uint32(maxWrite))...)
	}
	insns = append(head, insns...)
	raw, err := bpf.Assemble(insns)
	if err != nil {
		return nil, fmt.Errorf("assemble seccomp policy: %w", err)
	}
	prog := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		prog[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return prog, nil
}

// checkedSyscalls are the calls the later stages decide: those the
// library's policy names (denied, or checked by their arguments) and, for
// programs, write (writeLimitStage).
func checkedSyscalls(policy seccomp.Policy, p Profile) map[string]bool {
	names := map[string]bool{}
	for _, g := range policy.Syscalls {
		for _, n := range g.Names {
			names[n] = true
		}
		for _, c := range g.NamesWithCondtions {
			names[c.Name] = true
		}
	}
	if p == ProfileProgram {
		names["write"] = true
	}
	return names
}

// Classes of system call numbers in the dispatch stage.
const (
	nrRefused = iota // on neither list: ENOSYS
	nrAllowed        // allowed whatever its arguments: allowed here
	nrChecked        // decided by the later stages
)

// nrRange is a range of call numbers, lo to hi inclusive, of one class.
type nrRange struct {
	lo, hi uint32
	class  int
}

// dispatchStage is the filter's first stage, after the architecture
// check: a binary search on the call's number. A call on neither list
// (allowedSyscalls, deniedSyscalls) fails with ENOSYS; an allowed call
// that no later stage checks is allowed at once; the others (denied,
// checked by their arguments, write) go on to the stages that follow,
// which the search's leaves reach with an unconditional jump.
//
// The shape matters for cost, not only for the calls' speed: when a
// filter is attached, the kernel emulates it for every call number to
// find those it always allows (seccomp_cache_prepare, Linux 5.11+), with
// interrupts off. A linear list of ~150 tests in front of the library's
// linear groups made that ~70,000 emulated instructions per run, 11% of
// the init's CPU in a burst of 50 hello-world runs (perf); the search
// takes about 8 per number.
func dispatchStage(a *arch.Info, checked map[string]bool) ([]bpf.Instruction, error) {
	class := map[uint32]int{}
	add := func(names []string, denied bool) error {
		for _, n := range names {
			nr, ok := a.SyscallNames[n]
			if !ok {
				return fmt.Errorf("seccomp: no system call %q on %s", n, a.Name)
			}
			c := nrAllowed
			if denied || checked[n] {
				c = nrChecked
			}
			class[uint32(nr)] = c
		}
		return nil
	}
	if err := add(allowedSyscalls, false); err != nil {
		return nil, err
	}
	if err := add(deniedSyscalls, true); err != nil {
		return nil, err
	}
	nrs := slices.Sorted(maps.Keys(class))
	// Ranges of one class covering every number, 0 to 2^32-1.
	var ranges []nrRange
	next := uint32(0) // the first number not yet covered
	push := func(lo, hi uint32, c int) {
		if n := len(ranges); n > 0 && ranges[n-1].class == c {
			ranges[n-1].hi = hi
			return
		}
		ranges = append(ranges, nrRange{lo, hi, c})
	}
	for _, nr := range nrs {
		if nr > next {
			push(next, nr-1, nrRefused)
		}
		push(nr, nr, class[nr])
		next = nr + 1
	}
	push(next, math.MaxUint32, nrRefused)

	var out []bpf.Instruction
	var toLater []int // indexes of the leaves' jumps past the stage
	var emit func(rs []nrRange) error
	emit = func(rs []nrRange) error {
		if len(rs) == 1 {
			switch rs[0].class {
			case nrRefused:
				out = append(out, bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)})
			case nrAllowed:
				out = append(out, bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW})
			default:
				toLater = append(toLater, len(out))
				out = append(out, bpf.Jump{})
			}
			return nil
		}
		mid := len(rs) / 2
		at := len(out)
		out = append(out, bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: rs[mid].lo})
		if err := emit(rs[:mid]); err != nil {
			return err
		}
		skip := len(out) - at - 1 // over the lower half
		if skip > 255 {
			return fmt.Errorf("seccomp: a jump of %d instructions in the dispatch stage, more than classic BPF reaches", skip)
		}
		out[at] = bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: rs[mid].lo, SkipTrue: uint8(skip)}
		return emit(rs[mid:])
	}
	out = append(out, bpf.LoadAbsolute{Off: 0, Size: 4}) // seccomp_data.nr
	if err := emit(ranges); err != nil {
		return nil, err
	}
	for _, i := range toLater {
		out[i] = bpf.Jump{Skip: uint32(len(out) - i - 1)}
	}
	return out, nil
}

// encodeFilter lays prog out as the kernel's struct sock_filter array (code
// u16, jt u8, jf u8, k u32), in the native byte order.
func encodeFilter(prog []unix.SockFilter) []byte {
	b := make([]byte, 0, 8*len(prog))
	for _, f := range prog {
		b = binary.NativeEndian.AppendUint16(b, f.Code)
		b = append(b, f.Jt, f.Jf)
		b = binary.NativeEndian.AppendUint32(b, f.K)
	}
	return b
}

// writeLimitStage kills the process (SIGSYS, which Process reads as
// ReasonWriteTooLarge) on a write(2) to fd 1 or 2 of more than maxWrite
// bytes, rather than let it fail with EMSGSIZE, which a program that
// ignores Write's error, as fmt.Print callers do, would never show. It is
// written by hand, not as a library group with argument conditions: there
// a failed argument check leaves the argument in the accumulator for the
// groups after it, so a write of 165 bytes to stderr compared as mount and
// failed with EPERM. The stage ends by loading the call's number again.
func writeLimitStage(a *arch.Info, maxWrite uint32) []bpf.Instruction {
	const (
		argFd      = 16 // seccomp_data.args[0], low half: the kernel reads an unsigned int
		argCountLo = 32 // args[2], little-endian halves
		argCountHi = 36
	)
	return []bpf.Instruction{
		/* 0 */ bpf.LoadAbsolute{Off: 0, Size: 4},
		/* 1 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(a.SyscallNames["write"]), SkipFalse: 8}, // → 10
		/* 2 */ bpf.LoadAbsolute{Off: argFd, Size: 4},
		/* 3 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 1, SkipTrue: 1}, // → 5
		/* 4 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 2, SkipFalse: 5}, // → 10
		/* 5 */ bpf.LoadAbsolute{Off: argCountHi, Size: 4},
		/* 6 */ bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: 0, SkipTrue: 2}, // → 9
		/* 7 */ bpf.LoadAbsolute{Off: argCountLo, Size: 4},
		/* 8 */ bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: maxWrite, SkipFalse: 1}, // → 10
		/* 9 */ bpf.RetConstant{Val: unix.SECCOMP_RET_KILL_PROCESS},
		/* 10 */ bpf.LoadAbsolute{Off: 0, Size: 4},
	}
}
