//go:build !unix

package site

// syncDisks does nothing where there is no sync(2); the benchmarks are
// measured on Linux.
func syncDisks() {}
