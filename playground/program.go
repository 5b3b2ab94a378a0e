package playground

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/tools/txtar"
)

// MaxSourceSize bounds one submission (all files of a txtar archive
// together); larger requests are refused with 400 before any work.
const MaxSourceSize = 64 << 10

// Program is one user submission as the builder sees it: the files of
// the workspace (never go.mod: the server writes that) and whether it is
// a test (no func main, but TestXxx, ExampleXxx, FuzzXxx or BenchmarkXxx
// functions) to build with `go test -c`.
type Program struct {
	Files map[string][]byte // relative slash-separated path → content
	Test  bool
	// Bench: a test program with BenchmarkXxx functions, run with
	// -test.bench . -test.benchmem and a bounded -test.benchtime.
	Bench bool
	// ModPath is the module path of a go.mod in the submission (empty:
	// "play"). Nothing else of it is used: its go line would change the
	// build list's rules (graph pruning before 1.17, toolchain lines),
	// so programs always build at the server's go version.
	ModPath string
	// Race: built with -race (cgo and the C toolchain on for the standard
	// library's C only; ParseProgram refuses C of the user's).
	Race bool
	// Offsets say where each file starts in the submitted text: line N of
	// a file is line Offsets[name]+N of the submission (a txtar archive's
	// later files sit below their "-- name --" line). Absent: 0.
	Offsets map[string]int
}

// CheckRace refuses what a race build (cgo on) must not compile: any
// file the go command would give the C toolchain or the external linker.
// import "C" is refused for every build by ParseProgram.
func (p *Program) CheckRace() error {
	for name := range p.Files {
		if msg := raceFileProblem(name); msg != "" {
			return badProgram("%s", msg)
		}
	}
	return nil
}

// EditorLine is line n of file as the submitted text counts it (the
// editor's line); 0 stays 0.
func (p *Program) EditorLine(file string, n int) int {
	if n <= 0 {
		return 0
	}
	return p.Offsets[file] + n
}

// modPath is the module the program builds as.
func (p *Program) modPath() string {
	if p.ModPath != "" {
		return p.ModPath
	}
	return defaultModPath
}

// txtarOffsets maps each file of archive src to the line of its
// "-- name --" header (the first, for a name given twice).
func txtarOffsets(src []byte) map[string]int {
	offs := map[string]int{}
	for i, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if name, ok := strings.CutPrefix(line, "-- "); ok && strings.HasSuffix(name, " --") && len(name) > 3 {
			name = strings.TrimSpace(strings.TrimSuffix(name, " --"))
			if _, seen := offs[name]; !seen && name != "" {
				offs[name] = i + 1
			}
		}
	}
	return offs
}

// maxProgramFiles bounds the files of one txtar submission.
const maxProgramFiles = 64

// fileNameRE is what each element of a file path may be made of.
var fileNameRE = regexp.MustCompile(`^[A-Za-z0-9_+-][A-Za-z0-9_.+-]*$`)

// ProgramError is a submission ParseProgram refuses (too large, a bad file
// name or go.mod, cgo): the user's mistake, shown as a compile error.
type ProgramError struct {
	Msg string // what is wrong, e.g. "go.mod:3: ..." or "file name \"a/../b\": ..."
}

func (e *ProgramError) Error() string { return "bad program: " + e.Msg }

// badProgram returns a *ProgramError with a formatted message.
func badProgram(format string, args ...any) error {
	return &ProgramError{Msg: fmt.Sprintf(format, args...)}
}

// ParseProgram turns a submitted source into a Program. The source is a
// single Go file, or a txtar archive in the Go playground's multi-file
// format (the text before the first "-- name --" line is prog.go; files
// may sit in subdirectories, packages of the module; a go.mod may name
// the module, nothing else).
func ParseProgram(src []byte) (*Program, error) {
	if len(src) > MaxSourceSize {
		return nil, badProgram("source is %d bytes, the limit is %d", len(src), MaxSourceSize)
	}
	p := &Program{Files: map[string][]byte{}}
	a := txtar.Parse(src)
	if len(a.Files) == 0 {
		p.Files["prog.go"] = src
	} else {
		if len(bytes.TrimSpace(a.Comment)) > 0 {
			p.Files["prog.go"] = a.Comment
		}
		if len(a.Files) > maxProgramFiles {
			return nil, badProgram("%d files, the limit is %d", len(a.Files), maxProgramFiles)
		}
		seenMod := false
		for _, f := range a.Files {
			name := f.Name
			if name == "go.mod" && !seenMod {
				seenMod = true
				if err := p.readGoMod(f.Data); err != nil {
					return nil, err
				}
				continue
			}
			if err := checkFileName(name); err != nil {
				return nil, err
			}
			if _, dup := p.Files[name]; dup {
				return nil, badProgram("duplicate file %q", name)
			}
			p.Files[name] = f.Data
		}
		p.Offsets = txtarOffsets(src)
	}
	if err := p.classify(); err != nil {
		return nil, err
	}
	return p, nil
}

// checkFileName refuses paths that could leave the workspace, hide, or
// stand for files the server writes (go.mod, go.sum, go.work anywhere:
// the module set is fixed).
func checkFileName(name string) error {
	if name == "" || strings.Contains(name, `\`) || name != path.Clean(name) || path.IsAbs(name) {
		return badProgram("file name %q: want a clean relative path", name)
	}
	elems := strings.Split(name, "/")
	if len(elems) > 8 {
		return badProgram("file name %q: too deep", name)
	}
	for _, e := range elems {
		if !fileNameRE.MatchString(e) {
			return badProgram("file name %q: only letters, digits and _.+- are allowed, not starting with a dot", name)
		}
	}
	switch base := elems[len(elems)-1]; {
	case base == "go.mod" || base == "go.sum" || base == "go.work" || base == "go.work.sum":
		return badProgram("%s is written by the server (the allowed modules are fixed)", name)
	case elems[0] == "prog" || elems[0] == "prog.test" || elems[0] == "prog.a" || elems[0] == "importcfg":
		return badProgram("file name %q is reserved", name)
	case elems[0] == "vendor":
		return badProgram("%s: vendored packages are not supported", name)
	}
	return nil
}

// readGoMod takes the module path of a submitted go.mod (its go line is
// ignored).
// Requirements of the allowed modules are ignored (the server's versions
// are used); anything else that would change the build list or where a
// module comes from (other requirements, replace, exclude, toolchain,
// tool, godebug...) is refused.
func (p *Program) readGoMod(data []byte) error {
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return badProgram("%s", strings.TrimSpace(err.Error()))
	}
	allowed := map[string]bool{}
	for _, m := range AllowedModules {
		allowed[m.Path] = true
	}
	for _, st := range f.Syntax.Stmt {
		var line *modfile.Line
		switch x := st.(type) {
		case *modfile.Line:
			line = x
		case *modfile.LineBlock:
			if x.Token[0] == "require" {
				continue // checked below, line by line
			}
			line = &modfile.Line{Start: x.Start, Token: x.Token}
		default:
			continue
		}
		if len(line.Token) == 0 {
			continue
		}
		switch line.Token[0] {
		case "module", "go", "require":
		default:
			return badProgram("go.mod:%d: %q is not allowed in the playground: only the module line is used, and a go line ignored (the modules and the Go version are fixed)", line.Start.Line, line.Token[0])
		}
	}
	for _, r := range f.Require {
		if !allowed[r.Mod.Path] {
			return badProgram("go.mod:%d: module %s is not available in the playground (allowed: %s)", r.Syntax.Start.Line, r.Mod.Path, allowedList())
		}
	}
	if f.Module == nil {
		return badProgram("go.mod: no module line")
	}
	mp := f.Module.Mod.Path
	if err := module.CheckImportPath(mp); err != nil || allowed[mp] || strings.HasPrefix(mp, "golang.org/x/") {
		return badProgram("go.mod:%d: module path %q cannot be used", f.Module.Syntax.Start.Line, mp)
	}
	p.ModPath = mp
	return nil
}

// allowedList names the allowed modules, for messages.
func allowedList() string {
	var names []string
	for _, m := range AllowedModules {
		names = append(names, m.Path)
	}
	return strings.Join(names, ", ")
}

// classify rejects cgo early with a clear message (with CGO_ENABLED=0 the
// go command would only say that build constraints exclude the file) and
// detects test programs the way the Go playground does.
func (p *Program) classify() error {
	fset := token.NewFileSet()
	hasMain, hasTest, hasBench := false, false, false
	for name, data := range p.Files {
		if !strings.HasSuffix(name, ".go") {
			continue
		}
		// The imports as the go command reads them, which it does even
		// when a syntax error follows them: a file it would hand to cgo
		// is refused whatever comes after its imports.
		if hf, _ := parser.ParseFile(fset, name, data, parser.ImportsOnly); hf != nil {
			for _, imp := range hf.Imports {
				if path, _ := strconv.Unquote(imp.Path.Value); path == "C" {
					pos := fset.Position(imp.Pos())
					return badProgram("%s:%d:%d: cgo (import \"C\") is not supported in the playground", name, pos.Line, pos.Column)
				}
			}
		}
		f, err := parser.ParseFile(fset, name, data, parser.SkipObjectResolution)
		if err != nil {
			// Syntax errors are reported by the compiler, with positions.
			continue
		}
		if strings.Contains(name, "/") {
			continue // another package of the module
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil {
				continue
			}
			switch {
			case fn.Name.Name == "main" && f.Name.Name == "main":
				hasMain = true
			case isTestFunc(fn, "Benchmark"):
				hasTest, hasBench = true, true
			case isTestFunc(fn, ""), isExample(fn):
				hasTest = true
			}
		}
	}
	if !hasMain && hasTest {
		if src, ok := p.Files["prog.go"]; ok {
			delete(p.Files, "prog.go")
			p.Files["prog_test.go"] = src
		}
		p.Test, p.Bench = true, hasBench
	}
	return nil
}

// isTestFunc reports whether fn makes `go test` treat its file as a test,
// by the go command's rules: TestXxx(*testing.T), FuzzXxx(*testing.F) or
// TestMain(*testing.M) when kind is "", BenchmarkXxx(*testing.B) when it
// is "Benchmark"; with no results, where Xxx does not start with a
// lower-case letter (func Testimony is not a test).
func isTestFunc(fn *ast.FuncDecl, kind string) bool {
	name := fn.Name.Name
	var want []string // the parameter's type name
	switch {
	case kind == "Benchmark":
		if !isTestName(name, "Benchmark") {
			return false
		}
		want = []string{"B"}
	case name == "TestMain":
		want = []string{"M", "T"}
	case isTestName(name, "Test"):
		want = []string{"T"}
	case isTestName(name, "Fuzz"):
		want = []string{"F"}
	default:
		return false
	}
	t := fn.Type
	if t.TypeParams != nil || (t.Results != nil && len(t.Results.List) > 0) {
		return false
	}
	if len(t.Params.List) != 1 || len(t.Params.List[0].Names) > 1 {
		return false
	}
	star, ok := t.Params.List[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	// How testing was imported is not known here: *T (a dot import) and
	// *anything.T both count, as for the go command.
	switch x := star.X.(type) {
	case *ast.Ident:
		return slices.Contains(want, x.Name)
	case *ast.SelectorExpr:
		return slices.Contains(want, x.Sel.Name)
	}
	return false
}

// isExample reports whether fn is an example: ExampleXxx() without
// parameters or results. (The go command runs those with an "// Output:"
// comment and only compiles the others, as here.)
func isExample(fn *ast.FuncDecl) bool {
	return isTestName(fn.Name.Name, "Example") && fn.Type.TypeParams == nil &&
		fn.Type.Params.NumFields() == 0 && fn.Type.Results.NumFields() == 0
}

// isTestName reports whether name is prefix followed by nothing or by a
// rune that is not a lower-case letter.
func isTestName(name, prefix string) bool {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return false
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return rest == "" || !unicode.IsLower(r)
}

// benchTime bounds each benchmark's measuring time, so that a file of a
// few benchmarks ends well within the run's time limit.
const benchTime = "200ms"

// RunArgs is the command line of the built program: none for a program,
// -test.v for a test (its PASS/FAIL lines, got/want of examples), and the
// benchmark flags when it has benchmarks.
func (p *Program) RunArgs() []string {
	switch {
	case p.Bench:
		return []string{"-test.v", "-test.bench", ".", "-test.benchmem", "-test.benchtime", benchTime}
	case p.Test:
		return []string{"-test.v"}
	}
	return nil
}

// Key is the cache key of the program built by a given toolchain: a hash
// of the files, the mode, and everything else that changes the binary.
func (p *Program) Key(toolchain string) string {
	h := sha256.New()
	fmt.Fprintf(h, "toolchain %q\ntest %v\nmodule %q\n", toolchain, p.Test, p.ModPath)
	if p.Race {
		fmt.Fprintf(h, "race\n")
	}
	names := make([]string, 0, len(p.Files))
	for n := range p.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "file %q %d\n", n, len(p.Files[n]))
		h.Write(p.Files[n])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// imports lists, sorted, the import paths of p's Go files. Files that do
// not parse contribute nothing (the compiler reports them).
func (p *Program) imports() []string {
	seen := map[string]bool{}
	fset := token.NewFileSet()
	for name, data := range p.Files {
		if !strings.HasSuffix(name, ".go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, data, parser.ImportsOnly)
		if err != nil {
			continue
		}
		for _, imp := range f.Imports {
			if path, err := strconv.Unquote(imp.Path.Value); err == nil {
				seen[path] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// moduleImports lists, sorted, the imports of p's Go files that name a
// module (the first path element has a dot, e.g. modernc.org/sqlite): what
// the build needs beyond the standard library and p's own packages.
func (p *Program) moduleImports() []string {
	var mods []string
	for _, path := range p.imports() {
		first, _, _ := strings.Cut(path, "/")
		if strings.Contains(first, ".") && !strings.HasPrefix(path, p.ModPath+"/") {
			mods = append(mods, path)
		}
	}
	return mods
}
