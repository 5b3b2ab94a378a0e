package playground

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"playdoc/playground/api"
)

// The warm-up (warm.go, modules.go): its stages, what a build waits for and
// what it says while it waits, and a failed module cache.

func TestWarmPrebuildsAndStopsAtShutdown(t *testing.T) {
	s, fx, ts := newFakeServer(t, nil)
	code := prog("out stdout 0s warm")
	builds := fx.Builds.Load()
	s.Warm(context.Background(), []string{code, "not go at all {", code})
	eventually(t, 5*time.Second, "the warm build", func() bool { return fx.Builds.Load()-builds >= 2 })
	evs := runCode(t, ts.URL, code)
	if ce, _ := find(evs, api.KindCompileEnd); !ce.Cached {
		t.Errorf("warmed program not cached: %s", kinds(evs))
	}

	// A warm-up stuck in a build ends with Shutdown.
	s2, _, _ := newFakeServer(t, nil)
	s2.Warm(context.Background(), []string{prog("compile-hang")})
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	if err := s2.Shutdown(ctx); err != nil || time.Since(start) > time.Second {
		t.Errorf("Shutdown = %v after %v with a warm-up in a build", err, time.Since(start))
	}
	s2.Warm(context.Background(), []string{code}) // after Shutdown: a no-op, no panic
}

// TestRunSaysWhenTheToolchainIsBeingPrepared: a run sent while a new
// server still prepares its caches is told why it waits, and the wait is
// not counted as compile time.
func TestRunSaysWhenTheToolchainIsBeingPrepared(t *testing.T) {
	s, _, ts := newFakeServer(t, nil)
	// As if the server had just started (no other goroutine reads the
	// channels in this test).
	coreReady, stdReady, ready := make(chan struct{}), make(chan struct{}), make(chan struct{})
	s.builder.coreReady, s.builder.stdReady, s.builder.ready = coreReady, stdReady, ready
	const wait = 400 * time.Millisecond
	time.AfterFunc(wait, func() { close(coreReady) })
	code := prog("out stdout 0s hi")
	evs := runCode(t, ts.URL, code)
	if got, want := kinds(evs), "accepted,compile-start,compile-end,start,stdout,exit"; got != want {
		t.Fatalf("kinds = %s, want %s", got, want)
	}
	p, _ := ParseProgram([]byte(code))
	if want := toolchainWaitMessage(p); evs[1].Message != want || !strings.Contains(want, "standard library") {
		t.Errorf("compile-start message = %q, want %q", evs[1].Message, want)
	}
	if ms := evs[2].Compile; ms >= wait {
		t.Errorf("compile-end ms = %v: the toolchain wait was counted as compile time", ms)
	}
	// Once the standard library is ready, compile-start carries no
	// message for a program that imports no module...
	if evs := runCode(t, ts.URL, prog("out stdout 0s again")); evs[1].Kind != api.KindCompileStart || evs[1].Message != "" {
		t.Errorf("compile-start after the standard library is ready = %+v", evs[1].Event)
	}
	// ...while one that imports a heavier standard package waits for the
	// rest of the standard library...
	var h healthResponse
	if getJSON(t, ts.URL+"/healthz", &h); !h.OK || !h.CoreReady || h.StdReady || h.Ready {
		t.Errorf("healthz with the common packages warm = %+v, want coreReady only", h)
	}
	httpCode := "package main\n\nimport _ \"net/http\"\n\nfunc main() {}\n//fake:out stdout 0s web\n"
	time.AfterFunc(wait, func() { close(stdReady) })
	evs = runCode(t, ts.URL, httpCode)
	if got, want := kinds(evs), "accepted,compile-start,compile-end,start,stdout,exit"; got != want {
		t.Fatalf("net/http program: kinds = %s, want %s", got, want)
	}
	if msg := evs[1].Message; !strings.Contains(msg, "standard library") {
		t.Errorf("net/http program: compile-start message = %q, want the standard library's warm-up named", msg)
	}
	// ...and one that imports a module waits for the modules' warm-up
	// and is told which module it waits for.
	if getJSON(t, ts.URL+"/healthz", &h); !h.OK || !h.CoreReady || !h.StdReady || h.Ready {
		t.Errorf("healthz with the standard library warm, the modules not = %+v, want coreReady and stdReady only", h)
	}
	modCode := "package main\n\nimport _ \"modernc.org/sqlite\"\n\nfunc main() {}\n//fake:out stdout 0s db\n"
	time.AfterFunc(wait, func() { close(ready) })
	evs = runCode(t, ts.URL, modCode)
	if got, want := kinds(evs), "accepted,compile-start,compile-end,start,stdout,exit"; got != want {
		t.Fatalf("module program: kinds = %s, want %s", got, want)
	}
	if msg := evs[1].Message; !strings.Contains(msg, "modernc.org/sqlite") {
		t.Errorf("module program: compile-start message = %q, want it to name modernc.org/sqlite", msg)
	}
	if ms := evs[2].Compile; ms >= wait {
		t.Errorf("module program: compile-end ms = %v: the wait was counted as compile time", ms)
	}
	if evs := runCode(t, ts.URL, modCode+"//again\n"); evs[1].Message != "" {
		t.Errorf("compile-start after the modules are ready = %+v", evs[1].Event)
	}
}

// TestModuleImports: what makes a program wait for the modules' warm-up.
func TestModuleImports(t *testing.T) {
	cases := map[string]string{
		"package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n":                                                                          "",
		"package main\n\nimport (\n\t\"fmt\"\n\t_ \"modernc.org/sqlite\"\n\t\"golang.org/x/sync/errgroup\"\n)\n":                            "golang.org/x/sync/errgroup modernc.org/sqlite",
		"-- go.mod --\nmodule example.com/m\n-- prog.go --\npackage main\n\nimport \"example.com/m/util\"\n-- util/u.go --\npackage util\n": "",
		"package main\n\nimport \"fmt\n": "", // a syntax error: the compiler says so
	}
	for src, want := range cases {
		p, err := ParseProgram([]byte(src))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if got := strings.Join(p.moduleImports(), " "); got != want {
			t.Errorf("moduleImports(%q) = %q, want %q", src, got, want)
		}
	}
}

// TestStageFor: which stage of the warm-up a program waits for. The
// tutorial's first program (fmt, sync, time) waits only for the common
// packages, a new reader's first Run on a new machine.
func TestStageFor(t *testing.T) {
	cases := []struct {
		src  string
		want warmStage
	}{
		{"package main\n\nimport (\n\t\"fmt\"\n\t\"sync\"\n\t\"time\"\n)\n\nfunc main() {}\n", stageCore},
		{"package main\n\nfunc main() {}\n", stageCore},
		{"package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n", stageStd},
		{"package main\n\nimport \"unsafe\"\n", stageStd}, // not warmed: compiled by the build
		{"package main\n\nimport (\n\t\"fmt\"\n\t\"golang.org/x/sync/errgroup\"\n)\n", stageModules},
		{"-- go.mod --\nmodule example.com/m\n-- prog.go --\npackage main\n\nimport \"example.com/m/util\"\n-- util/u.go --\npackage util\n", stageStd},
	}
	for _, c := range cases {
		p, err := ParseProgram([]byte(c.src))
		if err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		if got := stageFor(p); got != c.want {
			t.Errorf("stageFor(%q) = %v, want %v", c.src, got, c.want)
		}
	}
	// Every package of a stage is a standard package the toolchain has
	// (a typo would fail the warm-up at run time, on a new machine).
	for _, pkg := range slices.Concat(warmCore, warmStd) {
		if strings.Contains(strings.Split(pkg, "/")[0], ".") || slices.Contains(warmStd, pkg) && slices.Contains(warmCore, pkg) {
			t.Errorf("warm list entry %q: not a standard package, or in both stages", pkg)
		}
	}
}

// TestModuleCacheFailureSparesStdPrograms: when filling the module cache
// failed (no module proxy, say), programs that import only the standard
// library still build and run; one that imports a module is told why it
// cannot.
func TestModuleCacheFailureSparesStdPrograms(t *testing.T) {
	s, _, ts := newFakeServer(t, nil)
	// After prepare has ended (newFakeServer waited), as if its module
	// cache had failed.
	s.builder.prepErr = errors.New("prepare the module cache: go list (GOPROXY=https://proxy.golang.org): no network")
	evs := runCode(t, ts.URL, prog("out stdout 0s hi"))
	if got, want := kinds(evs), "accepted,compile-start,compile-end,start,stdout,exit"; got != want {
		t.Errorf("standard-library program: kinds = %s, want %s", got, want)
	}
	modCode := "package main\n\nimport _ \"modernc.org/sqlite\"\n\nfunc main() {}\n//fake:out stdout 0s db\n"
	evs = runCode(t, ts.URL, modCode)
	last := evs[len(evs)-1]
	if last.Kind == api.KindExit || !strings.Contains(last.Message, "module cache") {
		t.Errorf("module program: kinds %s, last event %+v; want it refused, naming the module cache", kinds(evs), last.Event)
	}
}
