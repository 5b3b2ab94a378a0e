// Package playgroundtest runs the real playground server over a fake
// sandbox, for the tests of other packages, in the manner of
// net/http/httptest: the HTTP API, the queue, the cache and the event
// stream are the product's own, only the sandbox is scripted.
//
// The fake runs no program. Lines of the submitted source script what the
// build and the run do:
//
//	//fake:out stdout 100ms text   write "text\n" after 100ms
//	//fake:raw stdout 0s "text"     write the quoted bytes as they are
//	//fake:flood stdout N           write N bytes of 'x' lines at once
//	//fake:long stdout N            write one line of N bytes of "é"
//	//fake:sleep 1s
//	//fake:exit 3
//	//fake:oom                      end as the sandbox reports an OOM kill
//	//fake:compile-error 3:5 msg    the build fails with that diagnostic
//	//fake:compile-hang             the build never ends (until its time limit)
//	//fake:compile-sleep 300ms      the build takes that long
//	//fake:vet 4:2 msg              go vet reports that
//
// A source without directives builds and runs, printing nothing.
//
// Instead of directives, a Program (Executor.SetProgram) may play the
// builds and runs in Go: given the source, the standard input, the
// output streams, the trace's descriptor and a sleep that the kill and
// the time limit end, it writes what the program would and returns the
// sandbox's result. The server does the rest as for real programs:
// compile errors from the build's stderr, the stuck and race events
// from the run's stderr, the trace event from a recorded trace.
//
// The server still discovers the host's Go toolchain (go env) and fills a
// module cache at start, as the real one does: the machine needs Go.
package playgroundtest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"playdoc/internal/testenv"
	"playdoc/playground"
	"playdoc/playground/internal/scripted"
	"playdoc/sandbox"
)

// Executor is the scripted fake sandbox, a playground.Executor. Its
// counters may be read while the server runs.
type Executor struct {
	e scripted.Exec
}

// Start implements playground.Executor.
func (x *Executor) Start(ctx context.Context, spec sandbox.Spec) (playground.Proc, error) {
	p, err := x.e.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Builds is the number of builds started (go build, go test -c, vet and
// the warm-up's go commands included).
func (x *Executor) Builds() int64 { return x.e.Builds.Load() }

// Runs is the number of programs started.
func (x *Executor) Runs() int64 { return x.e.Runs.Load() }

// Running is the number of fake processes, builds or runs, not yet ended.
func (x *Executor) Running() int64 { return x.e.Running.Load() }

// Program plays a build or a run of the fake sandbox (see Run): it
// writes what the program would and returns its result. A zero Reason
// becomes the sandbox's when the process was killed or reached its
// time limit; a build that exits non-zero fails with its stderr as the
// compiler's output.
type Program = scripted.Program

// Run is one build or run given to a Program: the source (a build's Go
// files; a run's built program, the trace wrapper included for a traced
// run; a Python script), the arguments, the limits, the standard input,
// stdout and stderr (one chunk per write), Extra (a traced run's
// descriptor 3, else nil) and Sleep (false once killed or out of time).
type Run = scripted.Run

// SetProgram makes p play every later user build and every run instead
// of the directives; nil brings the directives back.
func (x *Executor) SetProgram(p Program) {
	if p == nil {
		x.e.Program.Store(nil)
		return
	}
	x.e.Program.Store(&p)
}

// FailStarts makes every later program start fail (as a broken sandbox
// would) while on is true.
func (x *Executor) FailStarts(on bool) { x.e.FailRun.Store(on) }

// Server is a playground.Server over an Executor, serving HTTP on a
// loopback address.
type Server struct {
	*httptest.Server                    // URL is the base of the API
	Playground       *playground.Server // the real server
	Exec             *Executor          // its fake sandbox
	tmp              string             // removed by Close
}

// Start starts a Server configured by cfg, with the Executor, a new
// temporary DataDir and ShareDB, the tests' shared module cache, a silent
// Logger and no rate limit unless cfg sets them, and waits until it is
// ready (at most two minutes). Close ends it.
func Start(cfg playground.Config) (*Server, error) {
	x := &Executor{}
	cfg.Executor = x
	tmp, err := os.MkdirTemp("", "playgroundtest-")
	if err != nil {
		return nil, fmt.Errorf("playgroundtest: %w", err)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = filepath.Join(tmp, "data")
	}
	if cfg.ModCache == "" {
		cfg.ModCache = testenv.ModCache()
	}
	if cfg.ShareDB == "" && cfg.Shares == nil {
		cfg.ShareDB = filepath.Join(tmp, "shares.db")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	pg, err := playground.NewServer(cfg)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("playgroundtest: %w", err)
	}
	s := &Server{Playground: pg, Exec: x, tmp: tmp}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := pg.Ready(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("playgroundtest: %w", err)
	}
	s.Server = httptest.NewServer(pg.Handler())
	return s, nil
}

// Close stops serving, shuts the playground down (running fake programs
// are killed after five seconds) and removes its temporary files. It
// returns the shutdown's error.
func (s *Server) Close() error {
	if s.Server != nil {
		s.Server.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.Playground.Shutdown(ctx)
	os.RemoveAll(s.tmp)
	return err
}

// NewServer is Start for a test: it fails tb on error and closes the
// server at tb's cleanup, failing tb if the shutdown fails.
func NewServer(tb testing.TB, cfg playground.Config) *Server {
	tb.Helper()
	s, err := Start(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("playgroundtest: shutdown: %v", err)
		}
	})
	return s
}
