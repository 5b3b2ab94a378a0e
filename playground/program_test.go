package playground

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"

	"playdoc/playground/api"
)

func TestParseProgram(t *testing.T) {
	p, err := ParseProgram([]byte("package main\n\nfunc main() {}\n"))
	if err != nil || p.Test || len(p.Files) != 1 || p.Files["prog.go"] == nil {
		t.Fatalf("single file: %+v %v", p, err)
	}
	p, err = ParseProgram([]byte("package main\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n"))
	if err != nil || !p.Test || p.Files["prog_test.go"] == nil || p.Files["prog.go"] != nil {
		t.Fatalf("test program: %+v %v", p, err)
	}
	// A TestXxx next to main is just a function.
	p, _ = ParseProgram([]byte("package main\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n\nfunc main() {}\n"))
	if p.Test {
		t.Error("program with main taken as a test")
	}
	p, err = ParseProgram([]byte("package main\n\nimport \"play/util\"\n\nfunc main() { util.Hi() }\n-- util.go --\npackage main\n-- data.txt --\nhello\n"))
	if err != nil || len(p.Files) != 3 || string(p.Files["data.txt"]) != "hello\n" {
		t.Fatalf("txtar: %+v %v", p, err)
	}
	p, err = ParseProgram([]byte("package main\n\nimport \"play.ground/foo\"\n\nfunc main() { foo.Bar() }\n-- go.mod --\nmodule play.ground\n\ngo 1.22\n\nrequire golang.org/x/sync v0.1.0\n-- foo/foo.go --\npackage foo\n\nfunc Bar() {}\n"))
	if err != nil || p.ModPath != "play.ground" || len(p.Files) != 2 || p.Files["foo/foo.go"] == nil || p.Files["go.mod"] != nil {
		t.Fatalf("txtar with go.mod and a package: %+v %v", p, err)
	}
	bad := map[string]string{
		"go.mod":     "package main\n-- go.mod --\nmodule x\nreplace a => /etc\n",
		"go.work":    "package main\n-- go.work --\ngo 1.26\n",
		"require":    "package main\n-- go.mod --\nmodule x\nrequire example.com/evil v1.0.0\n",
		"toolchain":  "package main\n-- go.mod --\nmodule x\ntoolchain go1.99\n",
		"no module":  "package main\n-- go.mod --\ngo 1.22\n",
		"nested mod": "package main\n-- a/go.mod --\nmodule a\n",
		"vendor":     "package main\n-- vendor/x/x.go --\npackage x\n",
		"prog dir":   "package main\n-- prog/x.go --\npackage x\n",
		"abs":        "package main\n-- /etc/x.go --\npackage x\n",
		"dotdot":     "package main\n-- ../x.go --\npackage main\n",
		"hidden":     "package main\n-- .x --\n",
		"reserved":   "package main\n-- prog --\n",
		"cgo":        "package main\n\nimport \"C\"\n\nfunc main() {}\n",
		"too large":  "package main\n" + strings.Repeat("/", MaxSourceSize),
		"duplicated": "-- a.go --\npackage main\n-- a.go --\npackage main\n",
	}
	for name, src := range bad {
		_, err := ParseProgram([]byte(src))
		if pe, ok := errors.AsType[*ProgramError](err); !ok || pe.Msg == "" || strings.HasPrefix(pe.Msg, "bad program") {
			t.Errorf("%s: err = %v, want a *ProgramError with its message", name, err)
		}
	}
	ce := programError(&ProgramError{Msg: "prog.go:3:8: cgo is not supported"})
	if ce.Message != "prog.go:3:8: cgo is not supported" || len(ce.Errors) != 1 || ce.Errors[0].Line != 3 {
		t.Errorf("programError = %+v", ce)
	}
}

// TestTestDetection: a program without main is run as a test when a
// function is one for the go command, and only then.
func TestTestDetection(t *testing.T) {
	for decl, want := range map[string]bool{
		"func TestX(t *testing.T) {}":                        true,
		"func Test(t *testing.T) {}":                         true,
		"func Test_x(t *testing.T) {}":                       true,
		"func TestÉté(t *testing.T) {}":                      true,
		"func FuzzX(f *testing.F) {}":                        true,
		"func TestMain(m *testing.M) {}":                     true,
		"func TestX(t *T) {}\n\ntype T = testing.T":          true, // *T counts, as after a dot import
		"func Testimony(t *testing.T) {}":                    false,
		"func Testété(t *testing.T) {}":                      false,
		"func TestX(t *testing.T) error { return nil }":      false,
		"func TestX(t *testing.B) {}":                        false,
		"func FuzzX(t *testing.T) {}":                        false,
		"func TestX(a, b *testing.T) {}":                     false,
		"func TestX() {}":                                    false,
		"func BenchmarkX(b *testing.B) {}":                   true, // benchmarks run too (issue 10)
		"func TestX[P any](t *testing.T) {}":                 false,
		"type S struct{}\n\nfunc (S) TestX(t *testing.T) {}": false,
	} {
		src := "package main\n\nimport \"testing\"\n\nvar _ testing.T\n\n" + decl + "\n"
		p, err := ParseProgram([]byte(src))
		if err != nil {
			t.Fatalf("%s: %v", decl, err)
		}
		if p.Test != want {
			t.Errorf("%s: test = %v, want %v", decl, p.Test, want)
		}
	}
}

func TestProgramKey(t *testing.T) {
	a, _ := ParseProgram([]byte("package main\n\nfunc main() {}\n"))
	b, _ := ParseProgram([]byte("package main\n\nfunc main() {}\n"))
	c, _ := ParseProgram([]byte("package main\n\nfunc main() { }\n"))
	if a.Key("go1") != b.Key("go1") {
		t.Error("same program, different keys")
	}
	if a.Key("go1") == c.Key("go1") || a.Key("go1") == a.Key("go2") {
		t.Error("different program or toolchain, same key")
	}
	if len(a.Key("go1")) != 64 {
		t.Error("key is not a sha256 hex")
	}
}

// The allowed modules are pinned to playdoc's own go.mod, whose modules
// `go mod download` puts into the host's cache.
func TestAllowedModulesMatchGoMod(t *testing.T) {
	f, err := os.Open("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	have := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require "))
		if len(fields) >= 2 {
			have[fields[0]] = fields[1]
		}
	}
	for _, m := range AllowedModules {
		if have[m.Path] != m.Version {
			t.Errorf("%s: allowed %s, go.mod has %q", m.Path, m.Version, have[m.Path])
		}
	}
}

func TestCleanOutputAndDiags(t *testing.T) {
	out := "# play\n./prog.go:4:2: undefined: x\n./prog.go:7:1: missing return\nvet: ./util.go:2:3: bad\n"
	msg := cleanOutput([]byte(out))
	if want := "prog.go:4:2: undefined: x\nprog.go:7:1: missing return\nutil.go:2:3: bad"; msg != want {
		t.Errorf("cleanOutput = %q, want %q", msg, want)
	}
	ds := parseDiags(msg)
	if len(ds) != 3 || ds[0] != (api.Diag{File: "prog.go", Line: 4, Col: 2, Msg: "undefined: x"}) || ds[2].File != "util.go" {
		t.Errorf("diags = %+v", ds)
	}
}

// TestProgramKinds: files without main are tests when they have any of the
// functions the go command runs, by its naming rules; benchmarks add the
// benchmark flags.
func TestProgramKinds(t *testing.T) {
	const head = "package main\n\nimport (\n\t\"fmt\"\n\t\"testing\"\n)\n\nvar _ = fmt.Sprint\nvar _ testing.T\n\n"
	for _, tc := range []struct {
		name, body  string
		test, bench bool
	}{
		{"example", "func ExampleHello() {\n\tfmt.Println(\"hi\")\n\t// Output: hi\n}\n", true, false},
		{"bare Example", "func Example() {\n\t// Output:\n}\n", true, false},
		{"example of a method", "func ExampleT_Foo() {}\n", true, false},
		{"lower-case is no example", "func Examplehello() {}\n", false, false},
		{"example with a parameter", "func ExampleX(n int) {}\n", false, false},
		{"example with a result", "func ExampleX() int { return 0 }\n", false, false},
		{"fuzz", "func FuzzX(f *testing.F) { f.Add(1); f.Fuzz(func(t *testing.T, n int) {}) }\n", true, false},
		{"fuzz with the wrong type", "func FuzzX(t *testing.T) {}\n", false, false},
		{"benchmark", "func BenchmarkX(b *testing.B) { for b.Loop() {} }\n", true, true},
		{"benchmark beside a test", "func TestX(t *testing.T) {}\nfunc BenchmarkX(b *testing.B) {}\n", true, true},
		{"lower-case is no test", "func Testx(t *testing.T) {}\n", false, false},
		{"TestMain alone", "func TestMain(m *testing.M) {}\n", true, false},
		{"a main beside an example", "func main() {}\nfunc ExampleX() {}\n", false, false},
	} {
		p, err := ParseProgram([]byte(head + tc.body))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if p.Test != tc.test || p.Bench != tc.bench {
			t.Errorf("%s: test %v bench %v, want %v %v", tc.name, p.Test, p.Bench, tc.test, tc.bench)
		}
		args := strings.Join(p.RunArgs(), " ")
		switch {
		case tc.bench && args != "-test.v -test.bench . -test.benchmem -test.benchtime "+benchTime:
			t.Errorf("%s: run with %q", tc.name, args)
		case tc.test && !tc.bench && args != "-test.v":
			t.Errorf("%s: run with %q", tc.name, args)
		case !tc.test && args != "":
			t.Errorf("%s: run with %q", tc.name, args)
		}
	}
}

func TestExplainImports(t *testing.T) {
	cases := []struct{ msg, mod, want string }{
		{"prog.go:5:2: cannot find module providing package rsc.io/quote: import lookup disabled by -mod=readonly", "play",
			"prog.go:5:2: package rsc.io/quote is not available in the playground: it has the standard library and the modules " + allowedList()},
		{"prog.go:3:8: package play/x/y is not in std (/goroot/src/play/x/y)", "play",
			`prog.go:3:8: package play/x/y is not in the program: add its files as sections such as "-- x/y/y.go --"`},
		{"prog.go:3:8: cannot find module providing package play.ground/foo: import lookup disabled by -mod=readonly", "play.ground",
			`prog.go:3:8: package play.ground/foo is not in the program: add its files as sections such as "-- foo/foo.go --"`},
		{"prog.go:3:8: package fmtt is not in std (/goroot/src/fmtt)", "play", "prog.go:3:8: package fmtt is not in std (/goroot/src/fmtt)"},
		{"prog.go:4:2: undefined: x", "play", "prog.go:4:2: undefined: x"},
	}
	for _, c := range cases {
		if got := explainImports(c.msg, c.mod); got != c.want {
			t.Errorf("explainImports(%q, %q) =\n%q, want\n%q", c.msg, c.mod, got, c.want)
		}
	}
}
