package playground

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"playdoc/playground/api"
)

// The builder over the real sandbox and toolchain: compile failures, cut
// compiles, test programs, shared builds, the fast path against the go
// command, vet, and modules.

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
		{"module not allowed", "package main\n\nimport _ \"github.com/evil/pkg\"\n\nfunc main() {}\n", "prog.go:3:8: package github.com/evil/pkg is not available in the playground: it has the standard library and the modules golang.org/x/sync, modernc.org/sqlite"},
		{"own package missing", "package main\n\nimport _ \"play/shapes\"\n\nfunc main() {}\n", `prog.go:3:8: package play/shapes is not in the program: add its files as sections such as "-- shapes/shapes.go --"`},
		{"own module's package missing", "package main\n\nimport _ \"example.org/demo/geo/shapes\"\n\nfunc main() {}\n-- go.mod --\nmodule example.org/demo\n-- geo/geo.go --\npackage geo\n", `prog.go:3:8: package example.org/demo/geo/shapes is not in the program: add its files as sections such as "-- geo/shapes/shapes.go --"`},
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

// TestRealCompileErrorsInFilesOfAnArchive: a diagnostic in another file of
// a txtar program says which file and where it is in the editor.
func TestRealCompileErrorsInFilesOfAnArchive(t *testing.T) {
	_, ts := newRealServer(t, nil)
	cases := []struct {
		name, src string
		want      api.Diag
	}{
		{"package file", "package main\n\nimport \"play/part\"\n\nfunc main() { part.Hello() }\n-- part/part.go --\npackage part\n\nfunc Hello() {\n\tundefinedInPart()\n}\n",
			api.Diag{File: "part/part.go", Line: 4, Col: 2, Msg: "undefined: undefinedInPart", EditorLine: 10}},
		{"named prog.go", "-- prog.go --\npackage main\n\nfunc main() {\n\tnope()\n}\n",
			api.Diag{File: "prog.go", Line: 4, Col: 2, Msg: "undefined: nope", EditorLine: 5}},
		{"test program", "package main\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {\n\tnope()\n}\n",
			api.Diag{File: "prog_test.go", Line: 6, Col: 2, Msg: "undefined: nope", EditorLine: 6}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs := runCode(t, ts.URL, uniq(c.src))
			ce, ok := find(evs, api.KindCompileError)
			if !ok || len(ce.Errors) != 1 || ce.Errors[0] != c.want {
				t.Errorf("compile error %+v, want %+v", ce.Errors, c.want)
			}
		})
	}
}
