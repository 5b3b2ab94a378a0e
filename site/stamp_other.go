//go:build !unix

package site

import "io/fs"

// fileIdentity is not known here: no output file is reused across builds.
func fileIdentity(fs.FileInfo) (uint64, bool) { return 0, false }

// fileDevice is not known here.
func fileDevice(fs.FileInfo) uint64 { return 0 }
