package playground

import (
	"time"

	"playdoc/sandbox"
)

// The two sandbox profiles of the playground. The time and memory limits
// come from the Config; the rest is fixed here, in one place.

// programLimits bounds one user program: wall and CPU time of the
// run timeout, its memory, and a small process, file and /tmp budget.
func programLimits(runTimeout time.Duration, memory int64) sandbox.Limits {
	return sandbox.Limits{
		WallTime:  runTimeout,
		CPUTime:   runTimeout,
		Memory:    memory,
		Pids:      256,
		FileSize:  16 << 20,
		OpenFiles: 256,
		TmpSize:   16 << 20,
	}
}

// buildLimits bounds one go command (or compile, or link) of a build: the
// toolchain runs parallel compilers, so twice the wall time in CPU, many
// processes and files, and room for the build's temporary files.
func buildLimits(timeout time.Duration, memory int64) sandbox.Limits {
	return sandbox.Limits{
		WallTime:  timeout,
		CPUTime:   2 * timeout,
		Memory:    memory,
		Pids:      1024,
		FileSize:  512 << 20,
		OpenFiles: 4096,
		TmpSize:   1 << 30,
	}
}
