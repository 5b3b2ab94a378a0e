package playground

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"playdoc/playground/api"
	"playdoc/sandbox"
)

// cToolchain is Debian's C toolchain as a race build sees it inside the
// build sandbox, read-only: -race needs cgo (the race runtime and
// runtime/cgo are C), so race builds run with CGO_ENABLED=1 and CC=gcc.
// User cgo stays refused (ParseProgram, raceFileProblem): gcc only ever
// compiles the standard library's C.
type cToolchain struct {
	binds []sandbox.Bind
}

// ccPath is where gcc appears inside the build sandbox.
const ccPath = "/usr/bin/gcc"

// findCToolchain locates gcc, as and ld (symlinks resolved, each bound at
// its usual name), gcc's own folder (cc1, collect2, crt files, libgcc),
// the C headers, and the multiarch library folder with the loader (the
// tools' shared libraries, crt1.o, libc). Errors say what to install.
func findCToolchain() (*cToolchain, error) {
	tc := &cToolchain{}
	for name, target := range map[string]string{"gcc": ccPath, "as": "/usr/bin/as", "ld": "/usr/bin/ld"} {
		p, err := exec.LookPath(name)
		if err != nil {
			return nil, fmt.Errorf("race builds need Debian's gcc (apt-get install gcc): %w", err)
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil, fmt.Errorf("race builds: %s: %w", p, err)
		}
		tc.binds = append(tc.binds, sandbox.Bind{Host: real, Target: target})
	}
	for _, d := range []string{"/usr/lib/gcc", "/usr/include"} {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("race builds need %s (apt-get install gcc libc6-dev)", d)
		}
		tc.binds = append(tc.binds, sandbox.Bind{Host: d, Target: d})
	}
	libs, err := libraryBinds()
	if err != nil {
		return nil, fmt.Errorf("race builds: %w", err)
	}
	tc.binds = append(tc.binds, libs...)
	return tc, nil
}

// libraryBinds are the multiarch library folders of a merged-/usr Debian,
// at both their names, and /lib64 for the dynamic loader's path: what a
// dynamically linked program (gcc, a race binary) needs to start.
func libraryBinds() ([]sandbox.Bind, error) {
	var binds []sandbox.Bind
	for _, d := range []string{"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			binds = append(binds,
				sandbox.Bind{Host: d, Target: d},
				sandbox.Bind{Host: d, Target: strings.TrimPrefix(d, "/usr")})
		}
	}
	if len(binds) == 0 {
		return nil, errors.New("no multiarch library folder (/usr/lib/<arch>-linux-gnu) found")
	}
	if st, err := os.Stat("/lib64"); err == nil && st.IsDir() {
		binds = append(binds, sandbox.Bind{Host: "/lib64", Target: "/lib64"})
	}
	return binds, nil
}

// raceRefused are the extensions of files the go command would hand to
// the C toolchain or the external linker once cgo is on: C, C++,
// Objective-C, Fortran and preprocessed assembly sources, headers, SWIG
// interfaces and prebuilt objects (.syso). Go assembly (.s) is Go's own.
var raceRefused = []string{".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".m", ".f", ".F", ".for", ".f90", ".S", ".sx", ".swig", ".swigcxx", ".syso"}

// raceFileProblem says why file name cannot be part of a race build
// ("" if it can).
func raceFileProblem(name string) string {
	for _, ext := range raceRefused {
		if strings.HasSuffix(name, ext) {
			return fmt.Sprintf("%s: %s files are not allowed: the race detector builds with cgo, and the playground compiles no C of yours", name, ext)
		}
	}
	return ""
}

// maxRaces bounds the races a race event describes.
const maxRaces = 10

// raceMarker begins each report of the race detector on stderr.
const raceMarker = "WARNING: DATA RACE"

var (
	raceAccessRE  = regexp.MustCompile(`^(Previous )?(read|write|Read|Write)(?: of size \d+)? at 0x[0-9a-f]+ by (main goroutine|goroutine (\d+)):$`)
	raceFrameFile = regexp.MustCompile(`^\s+(\S+?):(\d+)(?: \+0x[0-9a-f]+)?$`)
)

// ParseRaces reads the race detector's reports from a program's stderr and
// places each access in the user's files of module mod (see parseStuck).
// Each race is its two accesses, the current one first.
func ParseRaces(stderr string, files map[string][]byte, mod string) []api.Race {
	var races []api.Race
	blocks := strings.Split(stderr, raceMarker)
	for _, block := range blocks[1:] {
		if len(races) == maxRaces {
			break
		}
		block, _, _ = strings.Cut(block, "==================")
		var r api.Race
		var cur *api.RaceAccess
		funcName := ""
		for _, line := range strings.Split(block, "\n") {
			if m := raceAccessRE.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				r.Accesses = append(r.Accesses, api.RaceAccess{Op: strings.ToLower(m[2]), Previous: m[1] != ""})
				cur = &r.Accesses[len(r.Accesses)-1]
				cur.Goroutine = 1
				if m[4] != "" {
					cur.Goroutine, _ = strconv.Atoi(m[4])
				}
				continue
			}
			if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "Goroutine ") {
				cur = nil // the accesses' stacks end; creation stacks are not placed
				continue
			}
			if cur == nil || cur.Line > 0 {
				continue
			}
			if m := raceFrameFile.FindStringSubmatch(line); m != nil {
				if file, n, ok := userLocation(m[1]+":"+m[2], files, mod); ok {
					cur.File, cur.Line, cur.Func = file, n, funcName
					cur.Code = sourceLine(files[file], n)
				}
				continue
			}
			funcName, _, _ = strings.Cut(strings.TrimSpace(line), "(")
		}
		if len(r.Accesses) == 2 {
			r.Summary = describeRace(r)
			races = append(races, r)
		}
	}
	return races
}

// describeRace is one race in words: "goroutine 7 reads at line 13
// (`n++`) what goroutine 8 wrote at line 13".
func describeRace(r api.Race) string {
	who := func(a api.RaceAccess) string {
		if a.Goroutine == 1 {
			return "main"
		}
		return fmt.Sprintf("goroutine %d", a.Goroutine)
	}
	where := func(a api.RaceAccess) string {
		switch {
		case a.Line == 0:
			return "outside your code"
		case a.File != "prog.go":
			return fmt.Sprintf("at %s:%d", a.File, a.Line)
		}
		return fmt.Sprintf("at line %d", a.Line)
	}
	now, before := r.Accesses[0], r.Accesses[1]
	verb := map[string]string{"read": "reads", "write": "writes"}[now.Op]
	past := map[string]string{"read": "read", "write": "wrote"}[before.Op]
	code := ""
	if now.Code != "" {
		code = " (`" + now.Code + "`)"
	}
	return fmt.Sprintf("%s %s %s%s what %s %s %s without synchronisation", who(now), verb, where(now), code, who(before), past, where(before))
}

// foundRaces is the race detector's last line, written at exit.
var foundRaces = regexp.MustCompile(`Found (\d+) data race\(s\)`)

// raceEvent is the race event of a race build that reported races.
func (w *stuckWatch) raceEvent() (api.Event, bool) {
	text := w.races.String()
	if text == "" {
		return api.Event{}, false
	}
	races := ParseRaces(text, w.p.Files, w.p.modPath())
	if len(races) == 0 {
		return api.Event{}, false
	}
	for i := range races {
		for j, a := range races[i].Accesses {
			races[i].Accesses[j].EditorLine = w.p.EditorLine(a.File, a.Line)
		}
	}
	count := strings.Count(text, raceMarker)
	if m := foundRaces.FindSubmatch(w.carry); m != nil {
		count, _ = strconv.Atoi(string(m[1]))
	}
	count = max(count, len(races))
	summary := "Data race: " + races[0].Summary + "."
	if count > 1 {
		summary = fmt.Sprintf("%d data races; the first: %s.", count, races[0].Summary)
	}
	return api.Event{Kind: api.KindRace, Summary: summary, Races: races, Count: count}, true
}
