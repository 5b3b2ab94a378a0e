package playground

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"playdoc/internal/testenv"
	"playdoc/playground/api"
	"playdoc/sandbox"
)

// These tests use the real sandbox and the real toolchain. They share one
// data dir (under the temp dir, kept between runs) so that the cold
// warm-up build (~30 s, modernc.org/sqlite) is paid once.

func realDataDir() string { return testenv.PlaygroundDataDir() }

// newRealServer starts a Server over the real sandbox.
func newRealServer(t testing.TB, mod func(*Config)) (*Server, *httptest.Server) {
	t.Helper()
	// The server's log is shown when the test fails.
	logs := &lockedBuffer{}
	cfg := Config{
		DataDir:   realDataDir(),
		ModCache:  testModCache(),
		ShareDB:   filepath.Join(t.TempDir(), "shares.db"),
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		RateLimit: -1,
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("toolchain setup: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s, ts
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// uniq makes a source unique so that it is not in the binary cache.
func uniq(src string) string {
	return src + "\n// " + newID() + "\n"
}

const threeTasks = `package main

import (
	"fmt"
	"sync"
	"time"
)

func main() {
	start := time.Now()
	fmt.Println("starting 3 tasks")
	var wg sync.WaitGroup
	for i := 1; i <= 3; i++ {
		wg.Go(func() {
			time.Sleep(2 * time.Second)
			fmt.Printf("task %d done\n", i)
		})
	}
	wg.Wait()
	fmt.Printf("all done in %.0fs\n", time.Since(start).Seconds())
}
`

func TestRealThreeTasksStreamFirstLineEarly(t *testing.T) {
	_, ts := newRealServer(t, nil)
	var firstAt time.Time
	evs := readEvents(t, startRun(t, context.Background(), ts.URL, threeTasks).Body, func(e timedEvent) {
		if e.Kind == api.KindStdout && firstAt.IsZero() {
			firstAt = e.at
		}
	})
	exit, ok := find(evs, api.KindExit)
	if !ok || exit.Code != 0 || exit.Reason != "" {
		t.Fatalf("events: %s; exit %+v", kinds(evs), exit.Event)
	}
	out := output(evs, api.KindStdout)
	for _, want := range []string{"starting 3 tasks\n", "task 1 done\n", "task 2 done\n", "task 3 done\n", "all done in 2s\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
	if gap := exit.at.Sub(firstAt); gap < 1500*time.Millisecond {
		t.Errorf("first line arrived %v before the exit, want ~2s: output is not streamed", gap)
	}
	if exit.Wall < 1900*time.Millisecond || exit.Wall > 4*time.Second || exit.PeakMemKB <= 0 {
		t.Errorf("exit = %+v", exit.Event)
	}
	var last time.Duration
	for _, e := range evs {
		if e.Kind == api.KindStdout {
			if e.T < last {
				t.Errorf("t goes backwards: %v after %v", e.T, last)
			}
			last = e.T
		}
	}
	if last < 1900 {
		t.Errorf("last line at t=%vms, want ≥ 2000", last)
	}
}

func TestRealHealthShowsSandboxLayers(t *testing.T) {
	_, ts := newRealServer(t, nil)
	var h healthResponse
	getJSON(t, ts.URL+"/healthz", &h)
	if !h.OK || !h.Ready || len(h.Sandbox) == 0 {
		t.Fatalf("healthz = %+v", h)
	}
	for _, l := range h.Sandbox {
		if l.Name == "" {
			t.Errorf("unnamed layer %+v", l)
		}
	}
}

func TestRealCompileFailuresAreClean(t *testing.T) {
	_, ts := newRealServer(t, nil)
	cases := []struct {
		name, src, want string
	}{
		{"undefined", "package main\n\nfunc main() {\n\tx = 1\n}\n", "prog.go:4:2: undefined: x"},
		{"embed host file", "package main\n\nimport _ \"embed\"\n\n//go:embed /etc/passwd\nvar s string\n\nfunc main() { print(s) }\n", "prog.go:5:"},
		{"embed parent", "package main\n\nimport _ \"embed\"\n\n//go:embed ../../etc/passwd\nvar s string\n\nfunc main() { print(s) }\n", "prog.go:5:"},
		{"cgo", "package main\n\n// #include <stdio.h>\nimport \"C\"\n\nfunc main() {}\n", "cgo"},
		{"replace", "-- prog.go --\npackage main\n\nfunc main() {}\n-- go.mod --\nmodule play\n\nreplace golang.org/x/sync => /etc\n", `go.mod:3: "replace" is not allowed`},
		{"module not allowed", "package main\n\nimport _ \"github.com/evil/pkg\"\n\nfunc main() {}\n", "github.com/evil/pkg"},
		{"huge array literal", "package main\n\nvar x [1 << 28]int = [1 << 28]int{1}\n\nfunc main() { println(len(x)) }\n", "too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs := runCode(t, ts.URL, uniq(c.src))
			ce, ok := find(evs, api.KindCompileError)
			if !ok {
				t.Fatalf("no compile error: %s %q", kinds(evs), output(evs, api.KindStdout))
			}
			if !strings.Contains(ce.Message, c.want) {
				t.Errorf("message = %q, want it to contain %q", ce.Message, c.want)
			}
			if strings.Contains(ce.Message, "root:") || strings.Contains(ce.Message, "/work/") {
				t.Errorf("message leaks host content or paths: %q", ce.Message)
			}
		})
	}
}

func TestRealCompileThatNeverEndsIsCut(t *testing.T) {
	_, ts := newRealServer(t, func(c *Config) { c.CompileTimeout = 4 * time.Second })
	src := `package main

type T0[P any] struct{ a, b P }
type T1[P any] struct{ a, b T0[T0[P]] }
type T2[P any] struct{ a, b T1[T1[P]] }
type T3[P any] struct{ a, b T2[T2[P]] }
type T4[P any] struct{ a, b T3[T3[P]] }
type T5[P any] struct{ a, b T4[T4[P]] }

var v T5[int]

func main() { println(v.a.a.a.a.a.a) }
`
	start := time.Now()
	evs := runCode(t, ts.URL, uniq(src))
	ce, ok := find(evs, api.KindCompileError)
	if !ok || !(strings.Contains(ce.Message, "timed out") || strings.Contains(ce.Message, "out of memory")) {
		t.Fatalf("events %s: %+v", kinds(evs), ce.Event)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v with a 4s compile limit", d)
	}
	// The server still serves the next run.
	if evs := runCode(t, ts.URL, "package main\n\nfunc main() { println(\"ok\") }\n"); output(evs, api.KindStderr) != "ok\n" {
		t.Errorf("next run: %s", kinds(evs))
	}
}

// cacheListing lists a directory tree's files with their sizes.
func cacheListing(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			m[p] = fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRealBuildsNeverWriteTheWarmCache(t *testing.T) {
	s, ts := newRealServer(t, nil)
	before := cacheListing(t, s.builder.goCache)
	// A fresh program compiles new packages, and a test binary too: the
	// go command writes their objects to GOCACHE, which must be a
	// throwaway layer.
	for _, src := range []string{
		uniq("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"one\") }\n"),
		uniq("package main\n\nimport \"testing\"\n\nfunc TestA(t *testing.T) {}\n"),
	} {
		evs := runCode(t, ts.URL, src)
		if exit, ok := find(evs, api.KindExit); !ok || exit.Code != 0 {
			t.Fatalf("run: %s %+v %q", kinds(evs), exit.Event, output(evs, api.KindStderr))
		}
	}
	after := cacheListing(t, s.builder.goCache)
	for p, size := range after {
		if b, ok := before[p]; !ok || b != size {
			t.Errorf("the warm cache changed: %s", p)
		}
	}
	if len(after) != len(before) {
		t.Errorf("the warm cache has %d files, had %d", len(after), len(before))
	}
}

func TestRealTestProgramAndCompileEndpoint(t *testing.T) {
	_, ts := newRealServer(t, nil)
	src := "package main\n\nimport \"testing\"\n\nfunc TestOK(t *testing.T) {}\n\nfunc TestBad(t *testing.T) { t.Fatal(\"boom\") }\n"
	resp := postCompile(t, ts.URL, map[string]string{"body": src, "version": "2"})
	if !resp.IsTest || resp.TestsFailed != 1 || resp.Status != 1 || resp.Errors != "" {
		t.Errorf("response = %+v", resp)
	}
	all := ""
	for _, e := range resp.Events {
		all += e.Message
	}
	if !strings.Contains(all, "--- FAIL: TestBad") || !strings.Contains(all, "--- PASS: TestOK") {
		t.Errorf("output = %q", all)
	}
	resp = postCompile(t, ts.URL, map[string]string{"body": "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Printf(\"%d\\n\", \"x\")\n}\n", "withVet": "true"})
	if resp.VetOK || !strings.Contains(resp.VetErrors, "prog.go:6:") {
		t.Errorf("vet: %+v", resp)
	}
}

func TestRealConcurrentRunsShareOneBuild(t *testing.T) {
	s, ts := newRealServer(t, nil)
	src := uniq("package main\n\nfunc main() { println(\"hi\") }\n")
	misses := func() float64 { return counterValue(t, s, "playdoc_cache_misses_total") }
	m0 := misses()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if evs := runCode(t, ts.URL, src); output(evs, api.KindStderr) != "hi\n" {
				t.Errorf("run: %s", kinds(evs))
			}
		})
	}
	wg.Wait()
	if m := misses() - m0; m < 1 || m > 4 {
		t.Errorf("%v misses", m)
	}
	if n := s.builder.Workspaces(); n != 0 {
		t.Errorf("%d workspaces left", n)
	}
}

// The direct compile+link path and the go command's path build the same
// program alike (file names in panics, version, exit status).
func TestRealFastAndGoBuildAgree(t *testing.T) {
	s, ts := newRealServer(t, nil)
	src := uniq("package main\n\nimport (\n\t\"fmt\"\n\t\"runtime\"\n)\n\nfunc main() {\n\tfmt.Println(runtime.Version())\n\tvar m map[string]int\n\tm[\"x\"] = 1\n}\n")
	p, err := ParseProgram([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if !s.builder.fastBuildable(p) {
		t.Fatal("a fmt+runtime program does not take the direct path")
	}
	for _, code := range []string{src, src + "-- util.go --\npackage main\n"} {
		evs := runCode(t, ts.URL, code)
		// Built with -trimpath: no host or sandbox path in the binary.
		cp, _ := ParseProgram([]byte(code))
		art, _, ok := s.cache.Get(cp.Key(s.builder.toolchainID()))
		if !ok {
			t.Fatal("binary not cached")
		}
		bin, err := os.ReadFile(art.Path)
		art.Release()
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{sandboxGoroot + "/src", sandboxWork + "/", s.builder.goroot + "/src"} {
			if strings.Contains(string(bin), bad) {
				t.Errorf("binary contains %q: not built with -trimpath", bad)
			}
		}
		exit, _ := find(evs, api.KindExit)
		out, errOut := output(evs, api.KindStdout), output(evs, api.KindStderr)
		if exit.Code != 2 || out != s.builder.version+"\n" ||
			!strings.Contains(errOut, "panic: assignment to entry in nil map") || !strings.Contains(errOut, "play/prog.go:11") {
			t.Errorf("exit %+v\nstdout %q\nstderr %q", exit.Event, out, errOut)
		}
	}
}

func TestRealSqliteProgram(t *testing.T) {
	_, ts := newRealServer(t, nil)
	src := `package main

import (
	"database/sql"
	"fmt"

	_ "modernc.org/sqlite"
)

func main() {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		panic(err)
	}
	var n int
	if err := db.QueryRow("select 6*7").Scan(&n); err != nil {
		panic(err)
	}
	fmt.Println(n)
}
`
	evs := runCode(t, ts.URL, uniq(src))
	if exit, _ := find(evs, api.KindExit); exit.Code != 0 || output(evs, api.KindStdout) != "42\n" {
		t.Fatalf("%s exit %+v stderr %q last %+v", kinds(evs), exit.Event, output(evs, api.KindStderr), evs[len(evs)-1].Event)
	}
}

// Hostile programs end with a clear reason, and the next run is served.
func TestRealHostileProgramsAreContained(t *testing.T) {
	_, ts := newRealServer(t, func(c *Config) { c.RunTimeout = 2 * time.Second })
	cases := []struct {
		name, body, imports string
		reason              api.Reason
	}{
		{"output flood", `for { fmt.Println(strings.Repeat("x", 1000)) }`, `"fmt"; "strings"`, api.ReasonOutputLimit},
		{"sleep forever", `time.Sleep(time.Hour)`, `"time"`, api.ReasonTimeout},
		{"busy loop", `for i := 0; ; i++ { _ = i }`, ``, api.ReasonTimeout},
		// Memory bombs: TestRealMemoryBombsEndInOOM, with a time limit
		// that cannot come first.
		{"many goroutines", `for { go time.Sleep(time.Hour) }`, `"time"`, ""}, // timeout or oom: both contained
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := uniq("package main\n\nimport (" + c.imports + ")\n\nfunc main() {\n\t" + c.body + "\n}\n")
			start := time.Now()
			evs := runCode(t, ts.URL, src)
			exit, ok := find(evs, api.KindExit)
			if !ok {
				t.Fatalf("no exit: %s %+v", kinds(evs), evs[len(evs)-1].Event)
			}
			switch {
			case c.reason == api.ReasonOutputLimit && exit.Reason == api.ReasonTimeout:
				// On a loaded machine a starved flood (tens of ms of CPU
				// in 2 s) meets the time limit first: contained all the
				// same, which the 1 MiB check below asserts.
				t.Logf("the time limit came first (a loaded machine): %d bytes delivered", len(output(evs, api.KindStdout)))
			case c.reason != "" && exit.Reason != c.reason || c.reason == "" && exit.Reason != api.ReasonTimeout && exit.Reason != api.ReasonOOM:
				t.Errorf("exit = %+v, want reason %q", exit.Event, c.reason)
			}
			if exit.Message == "" {
				t.Error("no message for the user")
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("took %v with a 2s limit", d)
			}
			if n := len(output(evs, api.KindStdout)); n > 1<<20 {
				t.Errorf("%d bytes of output passed the 1 MiB cap", n)
			}
			if evs := runCode(t, ts.URL, "package main\n\nfunc main() { println(\"next\") }\n"); output(evs, api.KindStderr) != "next\n" {
				t.Errorf("the next run: %s", kinds(evs))
			}
		})
	}
}

func TestRealDisconnectAndStopKill(t *testing.T) {
	s, ts := newRealServer(t, nil)
	src := uniq("package main\n\nimport (\n\t\"fmt\"\n\t\"time\"\n)\n\nfunc main() {\n\tfmt.Println(\"up\")\n\ttime.Sleep(time.Hour)\n}\n")
	// Disconnect.
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	readEvents(t, startRun(t, ctx, ts.URL, src).Body, func(e timedEvent) {
		if e.Kind == api.KindStdout {
			cancel()
		}
	})
	eventually(t, 5*time.Second, "the run to end after the disconnect", func() bool {
		var h healthResponse
		getJSON(t, ts.URL+"/healthz", &h)
		return h.Running == 0 && h.Queued == 0
	})
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("disconnect took %v to end the run", d)
	}
	// Stop.
	var id string
	evs := readEvents(t, startRun(t, context.Background(), ts.URL, src).Body, func(e timedEvent) {
		switch e.Kind {
		case api.KindAccepted:
			id = e.ID
		case api.KindStdout:
			r := postJSON(t, context.Background(), ts.URL+"/api/stop", map[string]string{"id": id})
			r.Body.Close()
		}
	})
	exit, ok := find(evs, api.KindExit)
	if !ok || exit.Reason != api.ReasonKilled || exit.Wall > 5*time.Second {
		t.Errorf("stop: %s %+v", kinds(evs), exit.Event)
	}
	if n := s.builder.Workspaces(); n != 0 {
		t.Errorf("%d workspaces left", n)
	}
	ents, _ := os.ReadDir(s.builder.workRoot)
	if len(ents) != 0 {
		t.Errorf("%d entries left in the work dir", len(ents))
	}
}

func TestRealGoDebugDirectiveIsHonored(t *testing.T) {
	_, ts := newRealServer(t, nil)
	src := uniq("//go:debug panicnil=1\n\npackage main\n\nimport \"fmt\"\n\nfunc main() {\n\tdefer func() { fmt.Println(recover()) }()\n\tpanic(nil)\n}\n")
	if evs := runCode(t, ts.URL, src); output(evs, api.KindStdout) != "<nil>\n" {
		t.Errorf("stdout %q (%s): //go:debug ignored", output(evs, api.KindStdout), kinds(evs))
	}
}

// go vet analyses every dependency for facts; for sqlite that took
// minutes cold. The warm-up vets the allowed packages, so a /compile
// with withVet of a sqlite program stays well inside the compile limit.
func TestRealVetOfSqliteProgram(t *testing.T) {
	_, ts := newRealServer(t, nil)
	src := uniq("package main\n\nimport (\n\t\"database/sql\"\n\t\"fmt\"\n\n\t_ \"modernc.org/sqlite\"\n)\n\nfunc main() {\n\tdb, err := sql.Open(\"sqlite\", \":memory:\")\n\tfmt.Printf(\"%d\\n\", db == nil, err)\n}\n")
	start := time.Now()
	resp := postCompile(t, ts.URL, map[string]string{"body": src, "withVet": "true", "version": "2"})
	t.Logf("compile+vet+run of a sqlite program: %v", time.Since(start))
	if resp.Errors != "" || resp.VetOK || !strings.Contains(resp.VetErrors, "prog.go:12:") {
		t.Errorf("response = %+v", resp)
	}
}

// countingExecutor counts the sandboxed processes it starts.
type countingExecutor struct {
	Executor
	n atomic.Int64
}

func (c *countingExecutor) Start(ctx context.Context, spec sandbox.Spec) (Proc, error) {
	c.n.Add(1)
	return c.Executor.Start(ctx, spec)
}

// TestRealWarmExportsAreKept: once a stage is warm, a server start reads
// the warm packages' archive list from the data folder instead of running
// go list in the sandbox, and runs it again when an archive it names is
// gone.
func TestRealWarmExportsAreKept(t *testing.T) {
	s, ts := newRealServer(t, nil)
	saved := s.builder.exportsFile(stageModules)
	orig, err := os.ReadFile(saved)
	if err != nil {
		t.Fatalf("a warm server kept no archive list: %v", err)
	}
	ce := &countingExecutor{Executor: s.builder.exec}
	b, err := newBuilder(ce, slog.New(slog.NewTextHandler(io.Discard, nil)), filepath.Dir(s.builder.goCache), s.builder.modCache, 1, s.builder.limits)
	if err != nil {
		t.Fatal(err)
	}
	b.mods.Store(s.builder.mods.Load()) // what prepareModules would find
	ctx := t.Context()
	if err := b.loadExports(ctx, stageModules); err != nil {
		t.Fatal(err)
	}
	if n := ce.n.Load(); n != 0 {
		t.Errorf("loadExports with a kept list started %d sandboxed processes, want 0", n)
	}
	if got, want := b.fast.Load().exports, s.builder.fast.Load().exports; !maps.Equal(got, want) {
		t.Errorf("kept list: %d archives, want the server's %d", len(got), len(want))
	}

	// A list naming an archive the cache no longer has is not trusted.
	bad := append(bytes.Clone(orig), []byte("example.com/gone="+sandboxGoCache+"/00/gone-d\n")...)
	if err := os.WriteFile(saved, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.loadExports(ctx, stageModules); err != nil {
		t.Fatal(err)
	}
	if n := ce.n.Load(); n != 1 {
		t.Errorf("loadExports with a stale list started %d sandboxed processes, want 1 (go list)", n)
	}
	if now, err := os.ReadFile(saved); err != nil || bytes.Contains(now, []byte("example.com/gone")) {
		t.Errorf("the stale list was not replaced (%v):\n%s", err, now)
	}
	// The fast path still builds and runs.
	if evs := runCode(t, ts.URL, uniq("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"kept\") }\n")); output(evs, api.KindStdout) != "kept\n" {
		t.Errorf("run after: %s", kinds(evs))
	}
}
