//go:build linux

package sandbox

import (
	"fmt"
	"os"
	"runtime"
)

// Main turns this process into the sandbox's init when it was started as
// one, and returns at once otherwise. Call it first thing in main and in
// TestMain: the init must run before anything else of the program does.
func Main() {
	if len(os.Args) > 0 && os.Args[0] == spawnerMarker {
		if err := runSpawner(os.Args[1:]); err != nil {
			os.Exit(1) // the server sees its socket close
		}
		os.Exit(0)
	}
	if len(os.Args) == 0 || os.Args[0] != initMarker {
		return
	}
	// Capabilities, no_new_privs and the exec itself are per thread: keep the
	// whole setup on one OS thread so the exec'ing thread is the one that was
	// locked down.
	runtime.LockOSThread()
	err := runInit()
	status := os.NewFile(fdStatus, "status")
	if err != nil {
		fmt.Fprintf(status, "sandbox init: %v", err)
		os.Exit(121)
	}
	os.Exit(0) // probe: everything was set up
}
