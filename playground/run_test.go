package playground

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"playdoc/playground/api"
)

func TestRunStreamsEventsAsTheyHappen(t *testing.T) {
	s, fx, ts := newFakeServer(t, nil)
	code := prog("out stdout 0s first", "out stderr 50ms oops", "out stdout 400ms second")
	builds := fx.Builds.Load()
	var firstAt time.Time
	ctx := context.Background()
	evs := readEvents(t, startRun(t, ctx, ts.URL, code).Body, func(e timedEvent) {
		if e.Kind == api.KindStdout && firstAt.IsZero() {
			firstAt = e.at
		}
	})
	if got, want := kinds(evs), "accepted,compile-start,compile-end,start,stdout,stderr,stdout,exit"; got != want {
		t.Fatalf("kinds = %s, want %s", got, want)
	}
	if evs[0].ID == "" {
		t.Error("accepted has no id")
	}
	if evs[2].Cached {
		t.Error("first run: compile-end cached = true")
	}
	if evs[4].Data != "first\n" || evs[5].Data != "oops\n" || evs[6].Data != "second\n" {
		t.Errorf("output = %q %q %q", evs[4].Data, evs[5].Data, evs[6].Data)
	}
	if evs[4].T > 100*time.Millisecond || evs[6].T < 400*time.Millisecond || evs[6].T > time.Second {
		t.Errorf("t offsets = %v, %v; want ~0 and ~450", evs[4].T, evs[6].T)
	}
	exit := evs[7]
	if exit.Code != 0 || exit.Reason != "" || exit.Wall < 400*time.Millisecond || exit.PeakMemKB != 2048 {
		t.Errorf("exit = %+v", exit.Event)
	}
	// Streamed, not buffered: the first line reached the client long
	// before the end.
	if gap := exit.at.Sub(firstAt); gap < 300*time.Millisecond {
		t.Errorf("first line arrived only %v before the exit: output is buffered", gap)
	}
	if n := fx.Builds.Load() - builds; n != 1 {
		t.Errorf("%d builds, want 1", n)
	}

	// The same program again comes from the cache.
	evs = runCode(t, ts.URL, code)
	if ce, _ := find(evs, api.KindCompileEnd); !ce.Cached {
		t.Error("second run: not cached")
	}
	if n := fx.Builds.Load() - builds; n != 1 {
		t.Errorf("%d builds after the second run, want 1", n)
	}
	if r, q := s.counts(); r != 0 || q != 0 {
		t.Errorf("running=%d queued=%d after the runs", r, q)
	}
}

func TestRunCompileErrorShapeAndCache(t *testing.T) {
	_, fx, ts := newFakeServer(t, nil)
	code := prog("compile-error 3:5 undefined: x")
	builds := fx.Builds.Load()
	for i := range 2 {
		evs := runCode(t, ts.URL, code)
		if got, want := kinds(evs), "accepted,compile-start,compile-error"; got != want {
			t.Fatalf("run %d: kinds = %s, want %s", i, got, want)
		}
		ce := evs[2]
		if ce.Message != "prog.go:3:5: undefined: x" {
			t.Errorf("message = %q", ce.Message)
		}
		if len(ce.Errors) != 1 || ce.Errors[0] != (api.Diag{File: "prog.go", Line: 3, Col: 5, Msg: "undefined: x"}) {
			t.Errorf("errors = %+v", ce.Errors)
		}
	}
	if n := fx.Builds.Load() - builds; n != 1 {
		t.Errorf("%d builds, want 1 (compile errors are cached)", n)
	}
	// The wire format has line/col/msg fields.
	b, _ := json.Marshal(api.Event{Kind: api.KindCompileError, Message: "m", Errors: []api.Diag{{File: "prog.go", Line: 1, Col: 2, Msg: "x"}}})
	if want := `{"errors":[{"file":"prog.go","line":1,"col":2,"msg":"x"}],"kind":"compile-error","message":"m"}`; string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
}

func TestRunCgoIsACompileError(t *testing.T) {
	_, fx, ts := newFakeServer(t, nil)
	builds := fx.Builds.Load()
	evs := runCode(t, ts.URL, "package main\n\nimport \"C\"\n\nfunc main() {}\n")
	ce, ok := find(evs, api.KindCompileError)
	if !ok || !strings.Contains(ce.Message, "cgo") || len(ce.Errors) != 1 || ce.Errors[0].Line != 3 {
		t.Fatalf("events = %+v", evs)
	}
	if fx.Builds.Load() != builds {
		t.Error("cgo program reached the compiler")
	}
}

func TestRunRejectsBadRequests(t *testing.T) {
	_, fx, ts := newFakeServer(t, nil)
	builds := fx.Builds.Load()
	cases := []struct {
		name, body string
	}{
		{"too large", `{"code":"` + strings.Repeat("a", MaxSourceSize+1) + `"}`},
		{"25 MB", `{"code":"` + strings.Repeat("a", 25<<20) + `"}`},
		{"bad json", `{"code":`},
		{"no code", `{"source":"package main"}`},
	}
	for _, c := range cases {
		resp, err := http.Post(ts.URL+"/api/run", "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Error string }
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 400 || e.Error == "" {
			t.Errorf("%s: %s %q, want 400 with an error", c.name, resp.Status, e.Error)
		}
	}
	// Exactly the limit is fine.
	code := prog("out stdout 0s ok")
	code += "//" + strings.Repeat("a", MaxSourceSize-len(code)-3) + "\n"
	evs := runCode(t, ts.URL, code)
	if output(evs, api.KindStdout) != "ok\n" {
		t.Errorf("64 KiB program: %s", kinds(evs))
	}
	if n := fx.Builds.Load() - builds; n != 1 {
		t.Errorf("%d builds, want 1: rejected requests must not reach the builder", n)
	}
}

func TestRunBusyIs503WithRetryAfter(t *testing.T) {
	s, _, ts := newFakeServer(t, func(c *Config) { c.Runners, c.Queue = 1, 1 })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	long := prog("sleep 5s")
	r1 := startRun(t, ctx, ts.URL, long)
	defer r1.Body.Close()
	r2 := startRun(t, ctx, ts.URL, long+"//2\n")
	defer r2.Body.Close()
	eventually(t, 5*time.Second, "one running, one queued", func() bool {
		r, q := s.counts()
		return r == 1 && q == 1
	})
	var h healthResponse
	getJSON(t, ts.URL+"/healthz", &h)
	if h.Running != 1 || h.Queued != 1 {
		t.Errorf("healthz = %+v", h)
	}
	resp := postJSON(t, ctx, ts.URL+"/api/run", map[string]string{"code": long})
	var e struct{ Error string }
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || e.Error == "" {
		t.Fatalf("third run: %s Retry-After=%q error=%q, want 503 with both", resp.Status, resp.Header.Get("Retry-After"), e.Error)
	}
	cancel()
	eventually(t, 5*time.Second, "runs to end", func() bool {
		r, q := s.counts()
		return r == 0 && q == 0
	})
}

func TestRateLimitIs429(t *testing.T) {
	_, _, ts := newFakeServer(t, func(c *Config) { c.RateLimit, c.RateBurst = 0.5, 2 })
	code := prog("out stdout 0s hi")
	runCode(t, ts.URL, code)
	runCode(t, ts.URL, code)
	resp := postJSON(t, context.Background(), ts.URL+"/api/run", map[string]string{"code": code})
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("third run: %s Retry-After=%q, want 429 and 2", resp.Status, resp.Header.Get("Retry-After"))
	}
}

func TestStopKillsTheRun(t *testing.T) {
	s, fx, ts := newFakeServer(t, nil)
	ctx := context.Background()
	resp := startRun(t, ctx, ts.URL, prog("out stdout 0s started", "sleep 30s", "out stdout 0s never"))
	var id string
	start := time.Now()
	evs := readEvents(t, resp.Body, func(e timedEvent) {
		switch e.Kind {
		case api.KindAccepted:
			id = e.ID
		case api.KindStdout:
			r := postJSON(t, ctx, ts.URL+"/api/stop", map[string]string{"id": id})
			r.Body.Close()
			if r.StatusCode != 204 {
				t.Errorf("stop: %s", r.Status)
			}
		}
	})
	if time.Since(start) > 5*time.Second {
		t.Errorf("stop took %v", time.Since(start))
	}
	exit, ok := find(evs, api.KindExit)
	if !ok || exit.Reason != api.ReasonKilled || strings.Contains(output(evs, api.KindStdout), "never") {
		t.Fatalf("events: %s, exit %+v", kinds(evs), exit.Event)
	}
	if !strings.Contains(exit.Message, "stopped by the client") {
		t.Errorf("exit message = %q", exit.Message)
	}
	eventually(t, 2*time.Second, "nothing running", func() bool { return fx.Running.Load() == 0 })
	if r, _ := s.counts(); r != 0 {
		t.Errorf("running = %d", r)
	}
	r := postJSON(t, ctx, ts.URL+"/api/stop", map[string]string{"id": id})
	r.Body.Close()
	if r.StatusCode != 404 {
		t.Errorf("stop of an ended run: %s, want 404", r.Status)
	}
	r = postJSON(t, ctx, ts.URL+"/api/stop", map[string]string{})
	r.Body.Close()
	if r.StatusCode != 400 {
		t.Errorf("stop without id: %s, want 400", r.Status)
	}
}

func TestClientDisconnectKillsAndCleansUp(t *testing.T) {
	s, fx, ts := newFakeServer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	resp := startRun(t, ctx, ts.URL, prog("out stdout 0s started", "sleep 30s"))
	readEvents(t, resp.Body, func(e timedEvent) {
		if e.Kind == api.KindStdout {
			cancel()
		}
	})
	eventually(t, 3*time.Second, "the program to be killed", func() bool { return fx.Running.Load() == 0 })
	eventually(t, 3*time.Second, "healthz running=0", func() bool {
		var h healthResponse
		getJSON(t, ts.URL+"/healthz", &h)
		return h.Running == 0 && h.Queued == 0
	})
	if n := s.builder.Workspaces(); n != 0 {
		t.Errorf("%d workspaces left", n)
	}
	ents, err := os.ReadDir(s.builder.workRoot)
	if err != nil || len(ents) != 0 {
		t.Errorf("work dir holds %d entries (%v)", len(ents), err)
	}
}

func TestRunTimeoutOOMAndSignals(t *testing.T) {
	_, _, ts := newFakeServer(t, func(c *Config) { c.RunTimeout = 300 * time.Millisecond })
	evs := runCode(t, ts.URL, prog("out stdout 0s partial", "sleep 10s"))
	exit, _ := find(evs, api.KindExit)
	if exit.Reason != api.ReasonTimeout || !strings.Contains(exit.Message, "300ms") || output(evs, api.KindStdout) != "partial\n" {
		t.Errorf("timeout: %+v, output %q", exit.Event, output(evs, api.KindStdout))
	}
	evs = runCode(t, ts.URL, prog("oom"))
	if exit, _ := find(evs, api.KindExit); exit.Reason != api.ReasonOOM || !strings.Contains(exit.Message, "memory") {
		t.Errorf("oom: %+v", exit.Event)
	}
	evs = runCode(t, ts.URL, prog("exit 3"))
	if exit, _ := find(evs, api.KindExit); exit.Reason != "" || exit.Code != 3 || exit.Message != "exit status 3" {
		t.Errorf("exit 3: %+v", exit.Event)
	}
}

func TestOutputLimitKills(t *testing.T) {
	_, _, ts := newFakeServer(t, func(c *Config) { c.OutputLimit = 10 << 10 })
	evs := runCode(t, ts.URL, prog("flood stdout 1000000000"))
	exit, ok := find(evs, api.KindExit)
	if !ok || exit.Reason != api.ReasonOutputLimit {
		t.Fatalf("exit = %+v (%s)", exit.Event, kinds(evs))
	}
	if n := len(output(evs, api.KindStdout)); n != 10<<10 {
		t.Errorf("%d bytes of output, want exactly the 10 KiB limit", n)
	}
}

func TestLongLineIsSentInPieces(t *testing.T) {
	_, _, ts := newFakeServer(t, nil)
	const n = 300 << 10
	evs := runCode(t, ts.URL, prog("long stdout "+strconv.Itoa(n)))
	pieces := 0
	for _, e := range evs {
		if e.Kind != api.KindStdout {
			continue
		}
		pieces++
		if len(e.Data) > maxEventData || !utf8.ValidString(e.Data) {
			t.Errorf("event of %d bytes (valid UTF-8: %v)", len(e.Data), utf8.ValidString(e.Data))
		}
	}
	if out := output(evs, api.KindStdout); out != strings.Repeat("é", n/2)+"\n" || pieces < n/maxEventData {
		t.Errorf("%d bytes in %d events", len(out), pieces)
	}
}

func TestPartialLineIsFlushed(t *testing.T) {
	_, _, ts := newFakeServer(t, nil)
	evs := runCode(t, ts.URL, prog(`raw stdout 0s "Working..."`, "sleep 600ms", `raw stdout 0s " done\n"`))
	var outs []timedEvent
	for _, e := range evs {
		if e.Kind == api.KindStdout {
			outs = append(outs, e)
		}
	}
	exit, _ := find(evs, api.KindExit)
	if len(outs) != 2 || outs[0].Data != "Working..." || outs[1].Data != " done\n" {
		t.Fatalf("stdout events = %+v", outs)
	}
	if d := exit.at.Sub(outs[0].at); d < 400*time.Millisecond {
		t.Errorf("partial line arrived only %v before the exit", d)
	}
}

func TestSingleFlight(t *testing.T) {
	_, fx, ts := newFakeServer(t, nil)
	code := prog("compile-sleep 300ms", "out stdout 0s x")
	builds := fx.Builds.Load()
	done := make(chan []timedEvent)
	for range 3 {
		go func() {
			ctx := context.Background()
			resp := postJSON(t, ctx, ts.URL+"/api/run", map[string]string{"code": code})
			done <- readEvents(t, resp.Body, nil)
		}()
	}
	for range 3 {
		if evs := <-done; output(evs, api.KindStdout) != "x\n" {
			t.Errorf("a run got %s", kinds(evs))
		}
	}
	if n := fx.Builds.Load() - builds; n != 1 {
		t.Errorf("%d builds for 3 concurrent identical runs, want 1", n)
	}
}

// TestSingleFlightOutlivesItsLeader: the client that started a shared
// compile leaves; the compile goes on for the one still waiting, which
// gets the binary of that same single compile.
func TestSingleFlightOutlivesItsLeader(t *testing.T) {
	_, fx, ts := newFakeServer(t, nil)
	code := prog("compile-sleep 600ms", "out stdout 0s x")
	builds := fx.Builds.Load()
	leader, leave := context.WithCancel(context.Background())
	resp := startRun(t, leader, ts.URL, code)
	readEvents(t, resp.Body, func(e timedEvent) {
		if e.Kind == api.KindCompileStart {
			eventually(t, 5*time.Second, "the compile to start", func() bool { return fx.Builds.Load() > builds })
			leave()
		}
	})
	evs := runCode(t, ts.URL, code)
	if output(evs, api.KindStdout) != "x\n" {
		t.Fatalf("the follower got %s", kinds(evs))
	}
	if n := fx.Builds.Load() - builds; n != 1 {
		t.Errorf("%d builds, want the leader's one to serve the follower", n)
	}
}

func TestCompileTimeoutIsNotCached(t *testing.T) {
	_, fx, ts := newFakeServer(t, func(c *Config) { c.CompileTimeout = 200 * time.Millisecond })
	code := prog("compile-hang")
	builds := fx.Builds.Load()
	for range 2 {
		evs := runCode(t, ts.URL, code)
		ce, ok := find(evs, api.KindCompileError)
		if !ok || !strings.Contains(ce.Message, "timed out") {
			t.Fatalf("events %s %+v", kinds(evs), ce.Event)
		}
	}
	if n := fx.Builds.Load() - builds; n != 2 {
		t.Errorf("%d builds, want 2: a timeout must not be cached", n)
	}
}

func TestSandboxFailureIsAnErrorEvent(t *testing.T) {
	s, fx, ts := newFakeServer(t, nil)
	fx.FailRun.Store(true)
	evs := runCode(t, ts.URL, prog("out stdout 0s x"))
	if last := evs[len(evs)-1]; last.Kind != api.KindError || !strings.Contains(last.Message, "sandbox") {
		t.Fatalf("last event = %+v", last.Event)
	}
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "playdoc_sandbox_failures_total 1") {
		t.Error("sandbox failure not counted")
	}
	// The server keeps serving.
	fx.FailRun.Store(false)
	if evs := runCode(t, ts.URL, prog("out stdout 0s x")); output(evs, api.KindStdout) != "x\n" {
		t.Errorf("next run: %s", kinds(evs))
	}
	_ = s
}

func TestShutdownKillsLeftoverRuns(t *testing.T) {
	s, fx, ts := newFakeServer(t, nil)
	ctx := context.Background()
	resp := startRun(t, ctx, ts.URL, prog("out stdout 0s started", "sleep 30s"))
	got := make(chan []timedEvent)
	go func() { got <- readEvents(t, resp.Body, nil) }()
	eventually(t, 3*time.Second, "the program to run", func() bool { return fx.Running.Load() == 1 })
	sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Shutdown(sctx)
	if err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("Shutdown = %v after %v, want the context's error soon after 200ms", err, time.Since(start))
	}
	evs := <-got
	if exit, _ := find(evs, api.KindExit); exit.Reason != api.ReasonKilled {
		t.Errorf("exit = %+v", exit.Event)
	}
	if fx.Running.Load() != 0 {
		t.Error("a program survived Shutdown")
	}
	r := postJSON(t, ctx, ts.URL+"/api/run", map[string]string{"code": prog()})
	r.Body.Close()
	if r.StatusCode != 503 {
		t.Errorf("run after shutdown: %s", r.Status)
	}
}

func TestShutdownLetsRunsFinish(t *testing.T) {
	s, _, ts := newFakeServer(t, nil)
	ctx := context.Background()
	resp := startRun(t, ctx, ts.URL, prog("out stdout 0s a", "out stdout 300ms b"))
	got := make(chan []timedEvent)
	go func() { got <- readEvents(t, resp.Body, nil) }()
	eventually(t, 3*time.Second, "a running run", func() bool { r, _ := s.counts(); return r == 1 })
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	evs := <-got
	if exit, _ := find(evs, api.KindExit); exit.Reason != "" || output(evs, api.KindStdout) != "a\nb\n" {
		t.Errorf("run cut by a graceful shutdown: %s", kinds(evs))
	}
}

func TestStopWhileQueued(t *testing.T) {
	s, fx, ts := newFakeServer(t, func(c *Config) { c.Runners, c.Queue = 1, 4 })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := startRun(t, ctx, ts.URL, prog("sleep 10s"))
	defer first.Body.Close()
	eventually(t, 3*time.Second, "the first program to run", func() bool { return fx.Runs.Load() == 1 })
	var id string
	start := time.Now()
	evs := readEvents(t, startRun(t, ctx, ts.URL, prog("out stdout 0s never")).Body, func(e timedEvent) {
		if e.Kind == api.KindAccepted {
			id = e.ID
			r := postJSON(t, ctx, ts.URL+"/api/stop", map[string]string{"id": id})
			r.Body.Close()
			if r.StatusCode != 204 {
				t.Errorf("stop of a queued run: %s", r.Status)
			}
		}
	})
	if got := kinds(evs); got != "accepted,error" || !strings.Contains(evs[1].Message, "stopped by the client") {
		t.Errorf("queued run stopped: %s %q", got, evs[len(evs)-1].Message)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("stop of a queued run took %v", time.Since(start))
	}
	if fx.Runs.Load() != 1 {
		t.Errorf("%d programs ran, want only the first", fx.Runs.Load())
	}
	if _, q := s.counts(); q != 0 {
		t.Errorf("queued = %d after the stop", q)
	}
}

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
