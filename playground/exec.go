package playground

import (
	"context"
	"fmt"
	"time"

	"playdoc/sandbox"
)

// Executor starts one sandboxed process. The product always uses the real
// sandbox (SandboxExecutor); tests of the HTTP and protocol layers may use
// a scripted fake that runs nothing.
type Executor interface {
	Start(ctx context.Context, spec sandbox.Spec) (Proc, error)
}

// Proc is a started sandboxed process.
type Proc interface {
	// Next returns the next chunk the program wrote to stdout or stderr,
	// in write order across both, stamped with its write time; io.EOF
	// once the process tree is gone and all was read. The output ends
	// only once Wait has seen the tree gone, so call Wait concurrently.
	Next() (sandbox.Chunk, error)
	// Started is when the program was exec'd; output offsets count from it.
	Started() time.Time
	// Wait returns once the whole process tree is gone.
	Wait() (sandbox.Result, error)
	// Kill ends the whole process tree at once.
	Kill()
}

// SandboxExecutor runs processes in the real sandbox.
type SandboxExecutor struct {
	Sandbox *sandbox.Sandbox
}

// Layers reports which isolation mechanisms are in force.
func (e SandboxExecutor) Layers() []sandbox.Layer { return e.Sandbox.Layers() }

// Usage reports what all runs take now against the sandbox's totals.
func (e SandboxExecutor) Usage() sandbox.Usage { return e.Sandbox.Usage() }

// Start implements Executor.
func (e SandboxExecutor) Start(ctx context.Context, spec sandbox.Spec) (Proc, error) {
	p, err := e.Sandbox.Start(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	return sandboxProc{p}, nil
}

type sandboxProc struct{ p *sandbox.Process }

func (s sandboxProc) Next() (sandbox.Chunk, error)  { return s.p.Output.Next() }
func (s sandboxProc) Started() time.Time            { return s.p.Started }
func (s sandboxProc) Wait() (sandbox.Result, error) { return s.p.Wait() }
func (s sandboxProc) Kill()                         { s.p.Kill() }
