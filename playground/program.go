package playground

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"sort"
	"strings"

	"golang.org/x/tools/txtar"
)

// MaxSourceSize bounds one submission (all files of a txtar archive
// together); larger requests are refused with 400 before any work.
const MaxSourceSize = 64 << 10

// Program is one user submission as the builder sees it: the files of
// the workspace (never go.mod: the server writes that) and whether it is
// a test (no func main, but TestXxx functions) to build with `go test -c`.
type Program struct {
	Files map[string][]byte // relative file name → content
	Test  bool
}

// errBadProgram wraps every reason ParseProgram refuses a submission.
var errBadProgram = errors.New("bad program")

// ParseProgram turns a submitted source into a Program. The source is a
// single Go file, or a txtar archive in the Go playground's multi-file
// format (the text before the first "-- name --" line is prog.go).
func ParseProgram(src []byte) (*Program, error) {
	if len(src) > MaxSourceSize {
		return nil, fmt.Errorf("%w: source is %d bytes, the limit is %d", errBadProgram, len(src), MaxSourceSize)
	}
	p := &Program{Files: map[string][]byte{}}
	a := txtar.Parse(src)
	if len(a.Files) == 0 {
		p.Files["prog.go"] = src
	} else {
		if len(bytes.TrimSpace(a.Comment)) > 0 {
			p.Files["prog.go"] = a.Comment
		}
		for _, f := range a.Files {
			name := f.Name
			switch {
			case name == "go.mod" || name == "go.sum" || name == "go.work":
				return nil, fmt.Errorf("%w: %s is written by the server (the allowed modules are fixed)", errBadProgram, name)
			case name == "" || strings.ContainsAny(name, `/\`) || name != path.Clean(name) || strings.HasPrefix(name, "."):
				return nil, fmt.Errorf("%w: file name %q: only plain file names in one directory are allowed", errBadProgram, name)
			case name == "prog" || name == "prog.test":
				return nil, fmt.Errorf("%w: file name %q is reserved", errBadProgram, name)
			}
			if _, dup := p.Files[name]; dup {
				return nil, fmt.Errorf("%w: duplicate file %q", errBadProgram, name)
			}
			p.Files[name] = f.Data
		}
	}
	if err := p.classify(); err != nil {
		return nil, err
	}
	return p, nil
}

// classify rejects cgo early with a clear message (with CGO_ENABLED=0 the
// go command would only say that build constraints exclude the file) and
// detects test programs the way the Go playground does.
func (p *Program) classify() error {
	fset := token.NewFileSet()
	hasMain, hasTest := false, false
	for name, data := range p.Files {
		if !strings.HasSuffix(name, ".go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, data, parser.SkipObjectResolution)
		if err != nil {
			// Syntax errors are reported by the compiler, with positions.
			continue
		}
		for _, imp := range f.Imports {
			if imp.Path.Value == `"C"` {
				pos := fset.Position(imp.Pos())
				return fmt.Errorf("%w: %s:%d:%d: cgo (import \"C\") is not supported in the playground", errBadProgram, name, pos.Line, pos.Column)
			}
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil {
				continue
			}
			switch {
			case fn.Name.Name == "main" && f.Name.Name == "main":
				hasMain = true
			case strings.HasPrefix(fn.Name.Name, "Test") && isTestFunc(fn):
				hasTest = true
			}
		}
	}
	if !hasMain && hasTest {
		if src, ok := p.Files["prog.go"]; ok {
			delete(p.Files, "prog.go")
			p.Files["prog_test.go"] = src
		}
		p.Test = true
	}
	return nil
}

// isTestFunc reports whether fn looks like func TestXxx(t *testing.T).
func isTestFunc(fn *ast.FuncDecl) bool {
	params := fn.Type.Params.List
	if len(params) != 1 {
		return false
	}
	star, ok := params[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "T"
}

// Key is the cache key of the program built by a given toolchain: a hash
// of the files, the mode, and everything else that changes the binary.
func (p *Program) Key(toolchain string) string {
	h := sha256.New()
	fmt.Fprintf(h, "toolchain %q\ntest %v\n", toolchain, p.Test)
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
