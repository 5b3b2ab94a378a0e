package playground

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"playdoc/playground/api"

	"golang.org/x/tools/txtar"
)

// TestParseStuck reads real tracebacks (testdata/stuck/*.txtar: the
// program and the stderr it wrote when built with -trimpath in module
// "play", as the playground builds) and checks the one-sentence summary.
func TestParseStuck(t *testing.T) {
	want := map[string]string{
		"deadlock-waitgroup": "Deadlock: every goroutine is blocked. Main is waiting on a WaitGroup at line 20 (`wg.Wait()`); 3 goroutines are blocked sending on a channel at line 10 (`results <- i * i`).",
		"deadlock-mutex":     "Deadlock: every goroutine is blocked. Main is waiting on a WaitGroup at line 16 (`wg.Wait()`); 2 goroutines are waiting for a mutex at line 13 (`mu.Lock()`).",
		"deadlock-nilchan":   "Deadlock: every goroutine is blocked. Main is blocked forever sending on a nil channel at line 5 (`ch <- 1`).",
		"sigquit-mixed":      "main is blocked receiving from a channel at line 17 (`<-ch`); goroutine 4 is waiting for a mutex at line 12 (`go func() { mu.Lock() }()`); goroutine 5 is sleeping at line 13 (`go func() { time.Sleep(time.Hour) }()`); goroutine 6 is waiting for network I/O at line 14 (`go http.ListenAndServe(\"127.0.0.1:0\", nil)`); goroutine 7 is blocked receiving from a channel at line 16 (`go func() { select { case <-ch: } }()`).",
	}
	files, err := filepath.Glob("testdata/stuck/*.txtar")
	if err != nil || len(files) != len(want) {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	for _, f := range files {
		name := filepath.Base(f[:len(f)-len(".txtar")])
		t.Run(name, func(t *testing.T) {
			src, stderr := stuckFixture(t, name)
			rep, ok := ParseStuck(stderr, src)
			if !ok {
				t.Fatal("no traceback found")
			}
			if rep.Summary != want[name] {
				t.Errorf("summary:\n got %s\nwant %s", rep.Summary, want[name])
			}
			for _, g := range rep.Goroutines {
				if g.File != "prog.go" || g.Line == 0 || len(g.IDs) == 0 {
					t.Errorf("goroutine group not placed in the user's code: %+v", g)
				}
			}
		})
	}
	if _, ok := ParseStuck("panic: boom\n\nexit status 2\n", map[string][]byte{"prog.go": nil}); ok {
		t.Error("a traceback found in output without goroutines")
	}
}

// stuckFixture reads testdata/stuck/name.txtar: the files and the stderr.
func stuckFixture(t *testing.T, name string) (map[string][]byte, string) {
	t.Helper()
	return stuckFixtureIn(t, "stuck", name)
}

// stuckFixtureIn reads testdata/dir/name.txtar.
func stuckFixtureIn(t *testing.T, dir, name string) (map[string][]byte, string) {
	t.Helper()
	a, err := txtar.ParseFile(filepath.Join("testdata", dir, name+".txtar"))
	if err != nil {
		t.Fatal(err)
	}
	src := map[string][]byte{}
	var stderr string
	for _, af := range a.Files {
		if af.Name == "stderr" {
			stderr = string(af.Data)
		} else {
			src[af.Name] = af.Data
		}
	}
	return src, stderr
}

// TestStuckWatch feeds a run's stderr in pieces as the runtime writes it
// (a piece per print argument) and checks what stays in the output and
// the stuck event.
func TestStuckWatch(t *testing.T) {
	pieces := func(s string) []string {
		var ps []string
		for _, l := range strings.SplitAfter(s, "\n") {
			// "SIGQUIT: quit" is one print argument, "fatal error: " another.
			if head, rest, ok := strings.Cut(l, ": "); ok && !strings.HasPrefix(l, "\t") && !strings.HasPrefix(l, "SIGQUIT") {
				ps = append(ps, head+": ", rest)
			} else if l != "" {
				ps = append(ps, l)
			}
		}
		return ps
	}
	const limit = 2 * time.Second
	t.Run("dump at the time limit", func(t *testing.T) {
		files, stderr := stuckFixture(t, "sigquit-mixed")
		w := &stuckWatch{p: &Program{Files: files}, quitAfter: limit}
		// The program's own "SIGQUIT: quit" before the limit is output.
		if !w.stderr([]byte("SIGQUIT: quit"), limit-time.Millisecond) || !w.stderr([]byte("\n"), limit-time.Millisecond) {
			t.Fatal("text before the time limit taken for the dump")
		}
		for _, p := range pieces(stderr) {
			if w.stderr([]byte(p), limit+time.Millisecond) {
				t.Fatalf("dump piece %q left in the output", p)
			}
		}
		if _, ok := w.event(api.ReasonKilled, -1); ok {
			t.Error("a stuck event for a run stopped by the client")
		}
		ev, ok := w.event(api.ReasonTimeout, 2)
		if !ok || !strings.HasPrefix(ev.Summary, "At the time limit: main is blocked receiving from a channel at line 17") || ev.Deadlock {
			t.Fatalf("event %+v", ev)
		}
		if len(ev.Goroutines) != 5 || ev.Goroutines[0].EditorLine != 17 {
			t.Errorf("goroutines %+v", ev.Goroutines)
		}
		// Only the user's goroutines (1, 4 to 7), without the runtime's
		// fp/sp/pc and registers.
		heads := regexp.MustCompile(`(?m)^goroutine (\d+) \[`).FindAllStringSubmatch(ev.Dump, -1)
		var ids []string
		for _, h := range heads {
			ids = append(ids, h[1])
		}
		if strings.Join(ids, ",") != "1,4,5,6,7" || strings.Contains(ev.Dump, "fp=") || strings.Contains(ev.Dump, "gp=") ||
			strings.Contains(ev.Dump, "rip ") || !strings.Contains(ev.Dump, "\tplay/prog.go:17 +0xf8\n") {
			t.Errorf("dump (goroutines %v):\n%s", ids, ev.Dump)
		}
	})
	t.Run("deadlock report", func(t *testing.T) {
		files, stderr := stuckFixture(t, "deadlock-waitgroup")
		w := &stuckWatch{p: &Program{Files: files, Offsets: map[string]int{"prog.go": 0}}, quitAfter: limit}
		if !w.stderr([]byte("before\n"), 0) {
			t.Fatal("output taken")
		}
		for _, p := range pieces(stderr) {
			if !w.stderr([]byte(p), time.Millisecond) {
				t.Fatalf("deadlock report piece %q taken out of the output", p)
			}
		}
		if _, ok := w.event(api.ReasonNone, 0); ok {
			t.Error("a stuck event for a run that exited 0")
		}
		ev, ok := w.event(api.ReasonNone, 2)
		if !ok || !ev.Deadlock || ev.Dump != "" || !strings.HasPrefix(ev.Summary, "Deadlock: every goroutine is blocked. Main is waiting on a WaitGroup at line 20") {
			t.Fatalf("event %+v", ev)
		}
	})
	t.Run("no report", func(t *testing.T) {
		w := &stuckWatch{p: &Program{Files: map[string][]byte{"prog.go": nil}}, quitAfter: limit}
		w.stderr([]byte("panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\tplay/prog.go:3 +0x1\n"), 0)
		if ev, ok := w.event(api.ReasonNone, 2); ok {
			t.Errorf("a panic taken for a stuck program: %+v", ev)
		}
	})
}

// TestUserDumpIsBounded: a dump of thousands of goroutines is cut at a
// line to api.MaxDump bytes.
func TestUserDumpIsBounded(t *testing.T) {
	var b strings.Builder
	var groups []StuckGoroutine
	for id := 1; id <= 3000; id++ {
		fmt.Fprintf(&b, "goroutine %d gp=0x1 m=nil [chan send]:\nmain.worker()\n\tplay/prog.go:10 +0x50 fp=0x1 sp=0x2 pc=0x3\ncreated by main.main in goroutine 1\n\tplay/prog.go:18 +0x4c\n\n", id)
		groups = append(groups, StuckGoroutine{IDs: []int{id}})
	}
	d := userDump(b.String(), groups)
	if len(d) > api.MaxDump+len("…\n") || len(d) < api.MaxDump/2 || !strings.HasSuffix(d, "\n…\n") || !strings.HasPrefix(d, "goroutine 1 [chan send]:\n") {
		t.Errorf("dump of %d bytes: %q … %q", len(d), d[:100], d[len(d)-100:])
	}
}

// TestEditorLine: a txtar archive's files are counted from their header.
func TestEditorLine(t *testing.T) {
	p, err := ParseProgram([]byte("package main\n\nfunc main() { f() }\n-- f.go --\npackage main\n\nfunc f() { select {} }\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.EditorLine("f.go", 3); got != 7 {
		t.Errorf("f.go:3 is editor line %d, want 7", got)
	}
	if got := p.EditorLine("prog.go", 3); got != 3 {
		t.Errorf("prog.go:3 is editor line %d, want 3", got)
	}
}
