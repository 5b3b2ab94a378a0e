package main

import "syscall"

// int80 makes a system call through the 32-bit entry point, where the
// system call numbers (and the seccomp architecture) differ.
func int80(trap, a1, a2, a3 uintptr) uintptr

// compat32 tries calls the filter refuses natively, through the i386 ABI.
func compat32() map[string]error {
	try := func(nr, a1, a2, a3 uintptr) error {
		r := int80(nr, a1, a2, a3)
		if int(r) < 0 && int(r) > -4096 {
			return syscall.Errno(-int(r))
		}
		return nil
	}
	return map[string]error{
		"i386 personality": try(136, 0xffffffff, 0, 0), // query only
		"i386 getpid":      try(20, 0, 0, 0),
	}
}
