package playground

import (
	"path/filepath"
	"testing"

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
			a, err := txtar.ParseFile(f)
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
