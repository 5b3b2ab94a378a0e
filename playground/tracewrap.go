package playground

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Bounds of a traced run's execution trace, kept by the program itself
// (the wrapper stops tracing at either) and, for the bytes, by the server,
// which reads at most traceReadLimit from the trace channel.
const (
	// traceMaxBytes is how much trace the wrapper writes: a few seconds of
	// a busy program, and far more than the lanes can show.
	traceMaxBytes = 8 << 20
	// traceMaxTime is how long the wrapper traces. While the trace runs,
	// its once-a-second timer keeps the runtime from declaring a deadlock
	// ("all goroutines are asleep"): a deadlocked traced program is told
	// so only once the trace stops.
	traceMaxTime = 5 * time.Second
	// traceReadLimit is what the server keeps of the trace channel.
	traceReadLimit = traceMaxBytes + 64<<10
)

// traceMainName is what the user's func main is renamed to in a traced
// build; the wrapper's main calls it. Stack frames under that name are
// shown as main.main again.
const traceMainName = "playdoc_main"

// errNotTraceable says why a program is run without a trace; the trace
// event carries its text.
type errNotTraceable struct{ why string }

func (e *errNotTraceable) Error() string { return e.why }

// withTrace returns a copy of p whose main records a runtime execution
// trace of the user's main into descriptor 3 (the sandbox's ExtraOutput),
// without the user writing any code for it. The file with func main is
// edited in place so that every line keeps its number (compile errors,
// output and the trace's lines still name the user's lines):
//
//   - the package clause's line gains the wrapper's imports, under names
//     of its own (`package main; import (playdoc_trace "runtime/trace"; …)`);
//   - `func main` becomes `func playdoc_main`;
//   - each `os.Exit(code)` becomes `os.Exit(playdoc_exit(code))`, which
//     stops the trace first, so that the trace survives os.Exit;
//   - the wrapper (func main, starting the trace, bounded by traceMaxBytes
//     and traceMaxTime, and stopping it, also when main panics) is
//     appended after the last line.
//
// What is lost: a trace of a program that panics in a goroutine other
// than main's, exits through log.Fatal or another os.Exit the rewrite
// does not see (a method value, another package), dies of a fatal runtime
// error or is killed keeps nothing (the runtime buffers each generation,
// about a second, before writing it). A test program (no func main) or a
// file that does not parse is not traceable (errNotTraceable).
func withTrace(p *Program) (*Program, error) {
	if p.Test {
		return nil, &errNotTraceable{"a test program is not traced: only a program with func main is"}
	}
	names := slices.Sorted(maps.Keys(p.Files))
	q := &Program{Files: maps.Clone(p.Files), ModPath: p.ModPath, Race: p.Race} // a traced race run stays a race build
	found := false
	for _, name := range names {
		if !strings.HasSuffix(name, ".go") || strings.Contains(name, "/") {
			continue
		}
		src := p.Files[name]
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, &errNotTraceable{"the program does not parse, so it is run without a trace"}
		}
		if f.Name.Name != "main" {
			continue
		}
		out, hasMain, err := rewriteForTrace(fset, f, src)
		if err != nil {
			return nil, err
		}
		if hasMain {
			if found {
				return nil, &errNotTraceable{"more than one func main: the program is run without a trace"}
			}
			found = true
		}
		q.Files[name] = out
	}
	if !found {
		return nil, &errNotTraceable{"no func main in package main: the program is run without a trace"}
	}
	return q, nil
}

// edit replaces src[from:to] with text.
type edit struct {
	from, to int
	text     string
}

// rewriteForTrace applies withTrace's edits to one file of package main;
// hasMain reports whether the file declared func main (and so got the
// imports and the wrapper).
func rewriteForTrace(fset *token.FileSet, f *ast.File, src []byte) (out []byte, hasMain bool, err error) {
	tf := fset.File(f.Pos())
	off := func(p token.Pos) int { return tf.Offset(p) }
	var edits []edit
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.Name == "main" {
			hasMain = true
			edits = append(edits, edit{off(fn.Name.Pos()), off(fn.Name.End()), traceMainName})
		}
	}
	// os.Exit calls, by the file's name for "os" (a dot import or a blank
	// one has none).
	osName := ""
	for _, imp := range f.Imports {
		if path, _ := strconv.Unquote(imp.Path.Value); path == "os" {
			osName = "os"
			if imp.Name != nil {
				osName = imp.Name.Name
			}
		}
	}
	exits := 0
	if osName != "" && osName != "." && osName != "_" {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 || call.Ellipsis.IsValid() {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Exit" {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == osName {
				exits++
				edits = append(edits, edit{off(call.Args[0].Pos()), off(call.Args[0].Pos()), "playdoc_exit("},
					edit{off(call.Args[0].End()), off(call.Args[0].End()), ")"})
			}
			return true
		})
	}
	if !hasMain && exits == 0 {
		return src, false, nil
	}
	// The imports go on the package clause's line, after the package name.
	// playdoc_exit is declared once, with the wrapper, in main's file.
	imports := "; import (playdoc_trace \"runtime/trace\"; playdoc_os \"os\"; playdoc_sync \"sync\"; playdoc_time \"time\")"
	if !hasMain {
		imports = ""
	}
	edits = append(edits, edit{off(f.Name.End()), off(f.Name.End()), imports})
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].from < edits[j].from })
	var b bytes.Buffer
	last := 0
	for _, e := range edits {
		if e.from < last {
			return nil, false, errors.New("trace wrapper: overlapping edits")
		}
		b.Write(src[last:e.from])
		b.WriteString(e.text)
		last = e.to
	}
	b.Write(src[last:])
	if hasMain {
		if !bytes.HasSuffix(b.Bytes(), []byte("\n")) {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, traceWrapper, traceMaxBytes, int64(traceMaxTime/time.Millisecond))
	}
	return b.Bytes(), hasMain, nil
}

// traceWrapper is appended to the file with the user's main (after its
// last line, so that no line moves). The trace goes to descriptor 3; when
// the sandbox gave none, the program runs untraced. Writes past the byte
// bound are dropped and the trace stopped; the time bound stops it too.
// Its format arguments: the byte bound, the time bound in ms.
const traceWrapper = `
// Added by the playground for Trace: records the program's execution trace.
func main() {
	playdoc_traceStart()
	defer playdoc_traceStop()
	playdoc_main()
}

func playdoc_exit(code int) int { playdoc_traceStop(); return code }

type playdoc_traceOut struct {
	f    *playdoc_os.File
	left int
}

func (w *playdoc_traceOut) Write(b []byte) (int, error) {
	if len(b) > w.left {
		if w.left >= 0 {
			w.left = -1
			go playdoc_traceStop()
		}
		return len(b), nil
	}
	w.left -= len(b)
	return w.f.Write(b)
}

var (
	playdoc_traceOnce playdoc_sync.Once
	// Kept, so that no finalizer closes descriptor 3 under the program.
	playdoc_traceFile = playdoc_os.NewFile(3, "trace")
	playdoc_traceOn   bool
)

func playdoc_traceStart() {
	if _, err := playdoc_traceFile.Stat(); err != nil {
		return
	}
	if playdoc_trace.Start(&playdoc_traceOut{f: playdoc_traceFile, left: %d}) != nil {
		return
	}
	playdoc_traceOn = true
	playdoc_time.AfterFunc(%d*playdoc_time.Millisecond, playdoc_traceStop)
}

func playdoc_traceStop() {
	playdoc_traceOnce.Do(func() {
		if playdoc_traceOn {
			playdoc_trace.Stop()
			playdoc_traceFile.Close()
		}
	})
}
`
