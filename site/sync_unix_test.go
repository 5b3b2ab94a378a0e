//go:build unix

package site

import "syscall"

// syncDisks flushes written files to disk, so that a benchmark does not pay
// for an earlier one's writes.
func syncDisks() { syscall.Sync() }
