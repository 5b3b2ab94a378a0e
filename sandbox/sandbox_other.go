//go:build !linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// errNeedsLinux is what every entry point returns off Linux: the sandbox is
// built from Linux namespaces, seccomp, Landlock and cgroups, none of which
// has an equivalent we would trust elsewhere.
var errNeedsLinux = fmt.Errorf("the playground's sandbox needs Linux (this is %s/%s): %w",
	runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)

// Sandbox would start sandboxed processes; off Linux none can be made.
type Sandbox struct{}

// Process would be a program running in the sandbox; off Linux none exists.
type Process struct {
	// Output is what the program writes to stdout and stderr.
	Output *Output
	// Started is when the program was exec'd.
	Started time.Time
	// Pid is the host pid of the program.
	Pid int
}

// Output would be a program's stdout and stderr in write order; off Linux
// there is none.
type Output struct{}

// Next fails off Linux (errors.ErrUnsupported).
func (o *Output) Next() (Chunk, error) { return Chunk{}, errNeedsLinux }

// Main returns at once: off Linux this binary is never a sandbox's init.
func Main() {}

// New always fails off Linux, with an error wrapping errors.ErrUnsupported
// that says the playground needs Linux.
func New(context.Context, Options) (*Sandbox, error) { return nil, errNeedsLinux }

// Start always fails off Linux (errors.ErrUnsupported).
func (s *Sandbox) Start(context.Context, Spec) (*Process, error) { return nil, errNeedsLinux }

// UseInitBinary always fails off Linux (errors.ErrUnsupported).
func (s *Sandbox) UseInitBinary(string) error { return errNeedsLinux }

// BuildInit always fails off Linux (errors.ErrUnsupported): there is no
// sandbox to start the init in.
func BuildInit(context.Context, InitBuild) (string, error) { return "", errNeedsLinux }

// Usage reports nothing measured off Linux.
func (s *Sandbox) Usage() Usage { return Usage{} }

// Layers reports no layers: none is in force off Linux.
func (s *Sandbox) Layers() []Layer { return nil }

// MaxWrite is 0 off Linux.
func (s *Sandbox) MaxWrite() int { return 0 }

// Close does nothing.
func (s *Sandbox) Close() error { return nil }

// Kill does nothing: off Linux no process was started.
func (p *Process) Kill() {}

// Wait fails off Linux (errors.ErrUnsupported).
func (p *Process) Wait() (Result, error) { return Result{}, errNeedsLinux }
