//go:build linux

package sandbox

import (
	"os/exec"
	"runtime"
	"slices"
	"testing"
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
