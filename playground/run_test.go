package playground

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
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
		if len(ce.Errors) != 1 || ce.Errors[0] != (api.Diag{File: "prog.go", Line: 3, Col: 5, Msg: "undefined: x", EditorLine: 3}) {
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
