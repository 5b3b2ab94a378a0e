package sandbox

import (
	"fmt"
	"time"
)

// Stream says which of the program's outputs a Chunk was written to.
type Stream uint8

const (
	Stdout Stream = 1 // file descriptor 1
	Stderr Stream = 2 // file descriptor 2
)

// String is "stdout" or "stderr".
func (s Stream) String() string {
	switch s {
	case Stdout:
		return "stdout"
	case Stderr:
		return "stderr"
	}
	return fmt.Sprintf("stream(%d)", uint8(s))
}

// Chunk is what one write(2) of the program to its stdout or stderr
// carried. Chunks come in the order the writes were made, across both
// streams.
type Chunk struct {
	Stream Stream
	Data   []byte    // the bytes written; never empty
	At     time.Time // when the write was made (the kernel's wall-clock stamp), not when it was read
}

// MaxWrite is the largest single write(2) the program's stdout and stderr
// accept, in bytes, when the sandbox runs as root: a datagram is all or
// nothing, and each one queued holds kernel memory until read. Without root the
// kernel's net.core.wmem_max bounds it instead (Sandbox.MaxWrite gives the
// figure in force). Go's fmt and log write one call per print, so this is
// the longest single print; the seccomp filter kills a program that writes
// more in one call (ReasonWriteTooLarge).
const MaxWrite = 4 << 20
