package playground

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"playdoc/playground/api"
)

// CompileError is a build that failed: the cleaned compiler output and
// the diagnostics parsed from it.
type CompileError struct {
	Message string
	Errors  []api.Diag
	// Cacheable is false for failures that a retry may not repeat
	// (timeout, out of memory): those are never cached.
	Cacheable bool
	Timeout   bool // the compile time limit was reached
}

func (e *CompileError) Error() string { return e.Message }

var diagRE = regexp.MustCompile(`^([^\s:]+\.go):(\d+):(?:(\d+):)? (.*)$`)

// cleanOutput drops the go command's "# package" headers and rewrites
// "./prog.go:3:5" to "prog.go:3:5", as the Go playground shows errors.
func cleanOutput(out []byte) string {
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "# ") {
			continue
		}
		l = strings.TrimPrefix(l, "vet: ")
		l = strings.ReplaceAll(l, sandboxWork+"/", "")
		l = strings.TrimPrefix(l, "./")
		lines = append(lines, l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// parseDiags extracts file:line:col: msg diagnostics, sorted by position.
func parseDiags(msg string) []api.Diag {
	var ds []api.Diag
	for _, l := range strings.Split(msg, "\n") {
		m := diagRE.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		line, _ := strconv.Atoi(m[2])
		col, _ := strconv.Atoi(m[3])
		ds = append(ds, api.Diag{File: m[1], Line: line, Col: col, Msg: m[4]})
	}
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].File != ds[j].File {
			return ds[i].File < ds[j].File
		}
		return ds[i].Line < ds[j].Line
	})
	return ds
}

// missingPkgRE matches the go command's two answers for an import that
// nothing in the build provides: a path that looks like a module's, and
// one that does not (looked for in the standard library).
var missingPkgRE = regexp.MustCompile(`cannot find module providing package (\S+): import lookup disabled by -mod=readonly|package (\S+) is not in std \([^)]*\)`)

// explainImports rewrites those answers into what the user can do: the
// first blames -mod=readonly, a flag of the server's, and both would send
// the user to `go get`, which the playground has no use for. A package
// under the program's own module path (modPath) is a missing file section;
// any other module is not among the allowed ones.
func explainImports(msg, modPath string) string {
	return missingPkgRE.ReplaceAllStringFunc(msg, func(m string) string {
		sub := missingPkgRE.FindStringSubmatch(m)
		pkg := sub[1] + sub[2]
		if dir, ok := strings.CutPrefix(pkg, modPath+"/"); ok {
			return fmt.Sprintf("package %s is not in the program: add its files as sections such as \"-- %s/%s.go --\"", pkg, dir, path.Base(dir))
		}
		if sub[2] != "" {
			return m // a standard package that does not exist: the go command says it best
		}
		return fmt.Sprintf("package %s is not available in the playground: it has the standard library and the modules %s", pkg, allowedList())
	})
}
