//go:build linux

package sandbox

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// decodeFilter is encodeFilter's inverse.
func decodeFilter(b []byte) ([]unix.SockFilter, error) {
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("seccomp: filter of %d bytes, not a multiple of 8", len(b))
	}
	prog := make([]unix.SockFilter, len(b)/8)
	for i := range prog {
		e := b[8*i:]
		prog[i] = unix.SockFilter{Code: binary.NativeEndian.Uint16(e), Jt: e[2], Jf: e[3], K: binary.NativeEndian.Uint32(e[4:])}
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
