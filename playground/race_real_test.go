package playground

import (
	"context"
	"strings"
	"testing"
	"time"

	"playdoc/playground/api"
)

// raceCounter is the common-mistakes page's shared counter: two goroutines
// increment n without a lock (line 13).
const raceCounter = `package main

import (
	"fmt"
	"sync"
)

func main() {
	n := 0
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			n++
		})
	}
	wg.Wait()
	fmt.Println(n)
}
`

// TestRealRaceDetector builds the shared counter with -race in the build
// sandbox (cgo on, Debian's gcc read-only) and runs it.
func TestRealRaceDetector(t *testing.T) {
	_, ts := newRealServer(t, nil)
	evs := runWith(t, ts.URL, map[string]any{"code": uniq(raceCounter), "race": true}, 8*time.Minute)
	exit, ok := find(evs, api.KindExit)
	stderr := output(evs, api.KindStderr)
	if !ok || exit.Code != 66 || !strings.Contains(stderr, "WARNING: DATA RACE") {
		ce, _ := find(evs, api.KindCompileError)
		e, _ := find(evs, api.KindError)
		t.Fatalf("exit %+v, events %s, compile error %q, error %q\nstderr:\n%s", exit.Event, kinds(evs), ce.Message, e.Message, stderr)
	}
	re, ok := find(evs, api.KindRace)
	if !ok || evs[len(evs)-2].Kind != api.KindRace {
		t.Fatalf("no race event just before exit: %s", kinds(evs))
	}
	if re.Count != 1 || len(re.Races) != 1 || !strings.HasPrefix(re.Summary, "Data race: goroutine ") {
		t.Fatalf("race event %+v", re.Event)
	}
	for _, a := range re.Races[0].Accesses {
		if a.EditorLine != 13 || a.Code != "n++" {
			t.Errorf("access not placed on line 13: %+v", a)
		}
	}
	ce, _ := find(evs, api.KindCompileEnd)
	t.Logf("race build %v (cached %v), run %v; %s", ce.Compile, ce.Cached, exit.Wall, re.Summary)
	// The same program without the detector: no race event, exit 0.
	evs = runCode(t, ts.URL, uniq(raceCounter))
	if exit, _ := find(evs, api.KindExit); exit.Code != 0 {
		t.Errorf("without race: %s %+v", kinds(evs), exit.Event)
	}
	if _, ok := find(evs, api.KindRace); ok {
		t.Error("a race event without the race detector")
	}
}

// TestRealRaceBuildRefusesUserC: with cgo on for the race detector, none
// of the user's C reaches gcc or the linker: import "C" (even followed by
// a syntax error, even as a raw string, even in another package), #cgo
// flags, C and object files, and the cgo pragmas the compiler keeps for
// cgo's own files. Each is a compile error that shows no host file.
func TestRealRaceBuildRefusesUserC(t *testing.T) {
	_, ts := newRealServer(t, nil)
	cases := []struct{ name, src, want string }{
		{"host header, syntax error after", "package main\n\n// #include \"/etc/passwd\"\nimport \"C\"\n\nfunc main() { ( }\n", "cgo"},
		{"raw string import", "package main\n\n// #include \"/etc/passwd\"\nimport `C`\n\nfunc main() {}\n", "cgo"},
		{"cgo LDFLAGS in a package", "package main\n\nimport _ \"play/sub\"\n\nfunc main() {}\n-- sub/sub.go --\npackage sub\n\n// #cgo LDFLAGS: -Wl,-T,/etc/passwd\nimport \"C\"\n", "cgo"},
		{"C file", "package main\n\nfunc main() {}\n-- evil.c --\n#include \"/etc/passwd\"\n", "evil.c"},
		{"object file", "package main\n\nfunc main() {}\n-- evil.syso --\n\x7fELF\n", "evil.syso"},
		{"cgo_ldflag pragma", "package main\n\n//go:cgo_ldflag \"-Wl,-T,/etc/passwd\"\n\nfunc main() {}\n", "cgo"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs := runWith(t, ts.URL, map[string]any{"code": uniq(c.src), "race": true}, 8*time.Minute)
			ce, ok := find(evs, api.KindCompileError)
			if !ok || !strings.Contains(ce.Message, c.want) {
				t.Fatalf("events %s, compile error %q, want one naming %q", kinds(evs), ce.Message, c.want)
			}
			if strings.Contains(ce.Message, "root:") || strings.Contains(ce.Message, "/bin/sh") {
				t.Errorf("a host file in the message: %q", ce.Message)
			}
		})
	}
}

// TestRealRaceWithTrace: one /api/run body with both "race" and "trace":
// the race build is traced (the wrapper keeps the lines, so the race is
// still placed on line 13) and the stream has the trace event, then the
// race event, then exit.
func TestRealRaceWithTrace(t *testing.T) {
	_, ts := newRealServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	resp := postJSON(t, ctx, ts.URL+"/api/run", map[string]any{"code": uniq(raceCounter), "race": true, "trace": true})
	if resp.StatusCode != 200 {
		t.Fatalf("/api/run: %s", resp.Status)
	}
	evs := readEvents(t, resp.Body, nil)
	if got := kinds(evs); !strings.HasSuffix(got, ",trace,race,exit") {
		t.Fatalf("events %s", got)
	}
	if exit, _ := find(evs, api.KindExit); exit.Code != 66 {
		t.Errorf("exit %+v, want code 66 (the detector found a race)", exit.Event)
	}
	tr, _ := find(evs, api.KindTrace)
	if tr.Trace == nil || laneNamed(tr.Trace, "main") == nil || len(tr.Trace.Lanes) < 3 {
		t.Errorf("trace event of the race build %+v (message %q)", tr.Trace, tr.Message)
	}
	re, _ := find(evs, api.KindRace)
	if re.Count != 1 || len(re.Races) != 1 {
		t.Fatalf("race event %+v", re.Event)
	}
	for _, a := range re.Races[0].Accesses {
		if a.EditorLine != 13 {
			t.Errorf("access not placed on line 13 in a traced race build: %+v", a)
		}
	}
}
