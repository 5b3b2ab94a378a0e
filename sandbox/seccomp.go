package sandbox

import (
	"fmt"
	"unsafe"

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

// namespaceCloneFlags are the clone(2) flags that would create namespaces.
const namespaceCloneFlags = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS |
	unix.CLONE_NEWIPC | unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET

// seccompPolicy builds the filter for a profile: allow by default, refuse
// the list above with EPERM so programs get a clear error.
func seccompPolicy(p Profile) seccomp.Policy {
	enosys := seccomp.ActionErrno | seccomp.Action(unix.ENOSYS)
	groups := []seccomp.SyscallGroup{
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
	}
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
	return seccomp.Policy{DefaultAction: seccomp.ActionAllow, Syscalls: groups}
}

// seccompProgram assembles the profile's filter into the classic BPF the
// kernel loads. The parent does it once per Sandbox; the init only loads it.
func seccompProgram(p Profile) ([]unix.SockFilter, error) {
	policy := seccompPolicy(p)
	insns, err := policy.Assemble()
	if err != nil {
		return nil, fmt.Errorf("assemble seccomp policy: %w", err)
	}
	native, err := arch.GetInfo("")
	if err != nil {
		return nil, fmt.Errorf("seccomp architecture: %w", err)
	}
	// The library's program allows every call of a foreign architecture:
	// on amd64 that is the whole i386 ABI (int $0x80), where unshare,
	// ptrace, mount, ... have other numbers. No Go program uses it.
	insns = append([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 4, Size: 4}, // seccomp_data.arch
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(native.ID), SkipTrue: 1},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)},
	}, insns...)
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

// loadSeccomp installs the filter on the calling thread, the one that execs:
// the program and all its descendants inherit it. no_new_privs must be set.
func loadSeccomp(prog []unix.SockFilter) error {
	if len(prog) == 0 {
		return fmt.Errorf("seccomp: empty filter")
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return fmt.Errorf("seccomp: %w", errno)
	}
	return nil
}
