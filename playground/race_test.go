package playground

import (
	"strings"
	"testing"

	"playdoc/playground/api"
)

// TestParseRaces reads a real race report (testdata/race/counter.txtar:
// the shared counter built with -race -trimpath in module "play") and
// places both accesses.
func TestParseRaces(t *testing.T) {
	files, stderr := raceFixture(t)
	races := ParseRaces(stderr, files, "play")
	if len(races) != 1 {
		t.Fatalf("%d races, want 1: %+v", len(races), races)
	}
	r := races[0]
	want := []api.RaceAccess{
		{Op: "read", Goroutine: 8, File: "prog.go", Line: 13, Code: "n++", Func: "main.main.func1"},
		{Op: "write", Previous: true, Goroutine: 7, File: "prog.go", Line: 13, Code: "n++", Func: "main.main.func1"},
	}
	if len(r.Accesses) != 2 || r.Accesses[0] != want[0] || r.Accesses[1] != want[1] {
		t.Errorf("accesses\n got %+v\nwant %+v", r.Accesses, want)
	}
	if r.Summary != "goroutine 8 reads at line 13 (`n++`) what goroutine 7 wrote at line 13 without synchronisation" {
		t.Errorf("summary %q", r.Summary)
	}
	// Another module's files are not the user's.
	if rs := ParseRaces(stderr, files, "example.com/m"); len(rs) != 1 || rs[0].Accesses[0].Line != 0 {
		t.Errorf("with another module path: %+v", rs)
	}
}

func raceFixture(t *testing.T) (map[string][]byte, string) {
	t.Helper()
	files, stderr := stuckFixtureIn(t, "race", "counter")
	return files, stderr
}

// TestRaceWatch: the race event of a race build, from stderr written in
// pieces, with the count from the detector's last line.
func TestRaceWatch(t *testing.T) {
	files, stderr := raceFixture(t)
	w := &stuckWatch{p: &Program{Files: files, Race: true}, quitAfter: 1 << 40}
	w.stderr([]byte("2\n"), 0)
	for rest := stderr; len(rest) > 0; {
		n := min(len(rest), 7) // the marker cut between writes
		w.stderr([]byte(rest[:n]), 0)
		rest = rest[n:]
	}
	ev, ok := w.raceEvent()
	if !ok || ev.Count != 1 || len(ev.Races) != 1 || ev.Races[0].Accesses[0].EditorLine != 13 ||
		!strings.HasPrefix(ev.Summary, "Data race: goroutine 8 reads at line 13") {
		t.Fatalf("race event %+v", ev)
	}
	// A build without -race never gets one.
	w = &stuckWatch{p: &Program{Files: files}, quitAfter: 1 << 40}
	w.stderr([]byte(stderr), 0)
	if _, ok := w.raceEvent(); ok {
		t.Error("a race event for a build without -race")
	}
}

// TestRaceRefusesC: a race build (cgo on) takes no C, headers, objects or
// preprocessed assembly of the user's, and no build refuses Go assembly.
func TestRaceRefusesC(t *testing.T) {
	for _, name := range []string{"x.c", "sub/x.h", "x.syso", "x.S", "x.cc", "x.m", "x.swig"} {
		p, err := ParseProgram([]byte("package main\n\nfunc main() {}\n-- " + name + " --\nint x;\n"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := p.CheckRace(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: race build allowed (%v)", name, err)
		}
	}
	p, err := ParseProgram([]byte("package main\n\nfunc main() {}\n-- x_amd64.s --\nTEXT ·f(SB),0,$0\n\tRET\n"))
	if err != nil || p.CheckRace() != nil {
		t.Errorf("Go assembly refused: %v", err)
	}
}
