//go:build linux

package sandbox

import (
	"encoding/binary"
	"math"
	"os/exec"
	"runtime"
	"slices"
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// unlistedSyscalls are x86_64 system calls on neither list: newer ones
// (6.x) a deny-list written before them would have let through, and older
// ones no program here needs. Each is harmless with all arguments zero.
var unlistedSyscalls = []string{
	"ioprio_get=252", "mbind=237", "pkey_alloc=330", "process_mrelease=448",
	"futex_waitv=449", "statmount=457", "listmount=458", "lsm_get_self_attr=459",
	"mseal=462", "setxattrat=463", "unassigned=599",
}

// TestUnlistedSyscallsRefused makes system calls that the allow-list does
// not name, first outside the sandbox (to see which this kernel has), then
// inside: there every one must fail with ENOSYS, including those the host
// kernel implements.
func TestUnlistedSyscallsRefused(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the numbers are x86_64's; the filter is built per architecture by name")
	}
	t.Parallel()
	args := append([]string{"rawsyscall"}, unlistedSyscalls...)
	out, err := exec.Command(hostileBinary, args...).Output()
	if err != nil {
		t.Fatalf("outside the sandbox: %v", err)
	}
	outside := lines(string(out))
	var onHost []string
	for name, v := range outside {
		if v != "error: function not implemented" {
			onHost = append(onHost, name)
		}
	}
	t.Logf("host kernel implements %d of %d unlisted calls: %v", len(onHost), len(unlistedSyscalls), onHost)
	if len(onHost) == 0 {
		t.Logf("no unlisted call exists on this host: only ENOSYS inside is checked")
	}
	sb := newSandbox(t)
	for _, p := range []Profile{ProfileProgram, ProfileBuild} {
		o := run(t, sb, Spec{Binary: hostileBinary, Args: args, SeccompProfile: p})
		inside := lines(o.Stdout)
		if len(inside) != len(unlistedSyscalls) {
			t.Fatalf("profile %v: %v", p, o)
		}
		for name, v := range inside {
			if v != "error: function not implemented" {
				t.Errorf("profile %v: %s inside: %q (outside %q), want ENOSYS", p, name, v, outside[name])
			}
		}
	}
	expectHello(t, sb)
}

// TestSeccompPolicyAssembles checks that every name on both lists is a
// system call the filter library knows for this architecture, and that no
// call is on both lists.
func TestSeccompPolicyAssembles(t *testing.T) {
	for _, p := range []Profile{ProfileProgram, ProfileBuild} {
		if _, err := seccompProgram(p, MaxWrite); err != nil {
			t.Errorf("profile %v: %v", p, err)
		}
	}
	denied := map[string]bool{}
	for _, n := range deniedSyscalls {
		denied[n] = true
	}
	for _, n := range allowedSyscalls {
		if denied[n] {
			t.Errorf("%s is both allowed and denied", n)
		}
	}
}

// TestFilterEncoding: the filter sent to the init as bytes decodes to the
// program assembled, instruction for instruction, and a truncated one is
// refused.
func TestFilterEncoding(t *testing.T) {
	prog, err := seccompProgram(ProfileProgram, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	b := encodeFilter(prog)
	if len(b) != 8*len(prog) {
		t.Fatalf("%d bytes for %d instructions", len(b), len(prog))
	}
	got, err := decodeFilter(b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, prog) {
		t.Error("the decoded filter differs from the assembled one")
	}
	if _, err := decodeFilter(b[:len(b)-3]); err == nil {
		t.Error("a truncated filter was accepted")
	}
}

// TestDispatchStageDecidesAsTheLists runs the assembled filter in a BPF
// interpreter for every call number up to 1023 (and a few far beyond),
// with argument sets that each later stage checks, and compares its
// answer with the lists' meaning: ENOSYS for a foreign architecture or a
// call on neither list, else what the write-limit stage and the library's
// policy say. A dispatch leaf that allowed a denied or argument-checked
// call at once, or refused a listed one, fails here.
func TestDispatchStageDecidesAsTheLists(t *testing.T) {
	native, err := arch.GetInfo("")
	if err != nil {
		t.Skip(err)
	}
	known := map[uint32]bool{}
	for _, n := range slices.Concat(allowedSyscalls, deniedSyscalls) {
		known[uint32(native.SyscallNames[n])] = true
	}
	nrs := []uint32{math.MaxUint32, 0x40000000, 0x40000001}
	for nr := range uint32(1024) {
		nrs = append(nrs, nr)
	}
	argSets := [][6]uint64{
		{},
		{unix.CLONE_NEWUSER}, {unix.CLONE_VM | unix.CLONE_THREAD},
		{unix.PR_SET_PDEATHSIG}, {unix.PR_SET_NAME},
		{unix.AF_PACKET}, {unix.AF_INET}, {unix.AF_NETLINK, 0, unix.NETLINK_ROUTE}, {unix.AF_NETLINK, 0, 9},
		{1, 0, 1 << 30}, {2, 0, 10}, {1, 0, 1 << 33}, {3, 0, 1 << 30},
	}
	enosys := int(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS))
	for _, p := range []Profile{ProfileProgram, ProfileBuild} {
		prog, err := seccompProgram(p, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		insns := make([]bpf.Instruction, len(prog))
		for i, f := range prog {
			insns[i] = bpf.RawInstruction{Op: f.Code, Jt: f.Jt, Jf: f.Jf, K: f.K}.Disassemble()
		}
		vm, err := bpf.NewVM(insns)
		if err != nil {
			t.Fatalf("profile %v: %v", p, err)
		}
		policy := seccompPolicy(p)
		lib, err := policy.Assemble()
		if err != nil {
			t.Fatal(err)
		}
		if p == ProfileProgram {
			lib = append(writeLimitStage(native, 1<<20), lib...)
		}
		later, err := bpf.NewVM(lib)
		if err != nil {
			t.Fatal(err)
		}
		allowed := 0
		for _, archID := range []uint32{uint32(native.ID), 0x40000003} {
			for _, nr := range nrs {
				for _, args := range argSets {
					in := seccompData(nr, archID, args)
					got, err := vm.Run(in)
					if err != nil {
						t.Fatal(err)
					}
					want := enosys
					if archID == uint32(native.ID) && known[nr] {
						if want, err = later.Run(in); err != nil {
							t.Fatal(err)
						}
					}
					if got != want {
						t.Errorf("profile %v, arch %#x, call %d, args %v: %#x, want %#x", p, archID, nr, args, got, want)
					}
					if got == int(unix.SECCOMP_RET_ALLOW) {
						allowed++
					}
				}
			}
		}
		if allowed == 0 {
			t.Errorf("profile %v: the filter allowed nothing", p)
		}
		t.Logf("profile %v: %d instructions", p, len(prog))
	}
}

// seccompData lays out struct seccomp_data (nr, arch, instruction
// pointer, six arguments) for x/net/bpf's interpreter, which loads words
// big-endian: each 32-bit word is written so that it reads back as the
// kernel's native load would, an argument's low word first.
func seccompData(nr, archID uint32, args [6]uint64) []byte {
	b := make([]byte, 64)
	binary.BigEndian.PutUint32(b[0:], nr)
	binary.BigEndian.PutUint32(b[4:], archID)
	for i, a := range args {
		binary.BigEndian.PutUint32(b[16+8*i:], uint32(a))
		binary.BigEndian.PutUint32(b[20+8*i:], uint32(a>>32))
	}
	return b
}
