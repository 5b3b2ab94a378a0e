//go:build unix

package site

import (
	"io/fs"
	"syscall"
)

// fileIdentity is the inode number of the file fi describes.
func fileIdentity(fi fs.FileInfo) (uint64, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return uint64(st.Ino), true
}

// fileDevice is the device of the file fi describes.
func fileDevice(fi fs.FileInfo) uint64 {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0
	}
	return uint64(st.Dev) //nolint:unconvert // int32 on some systems
}
