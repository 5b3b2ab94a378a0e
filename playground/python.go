package playground

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"playdoc/playground/api"
	"playdoc/sandbox"
)

// Python is a CPython interpreter that sandboxed Python programs run on:
// the host's own (Debian's python3 by default), visible read-only inside
// the sandbox with its standard library and the shared libraries it
// loads, nothing else of the host.
type Python struct {
	// Exe is the interpreter's host path, symlinks resolved
	// (/usr/bin/python3.11).
	Exe string
	// Version is "3.11" for /usr/bin/python3.11.
	Version string
	binds   []sandbox.Bind
	// empty is an empty folder, the lower layer of the writable /dev/shm
	// that multiprocessing's semaphores need.
	empty string
}

// FindPython locates the interpreter: path if given, else /usr/bin/python3
// (Debian's; a python3 earlier on PATH, such as a pyenv shim, is not
// what the tutorial documents). Errors say what is missing.
func FindPython(path string) (*Python, error) {
	if path == "" {
		path = "/usr/bin/python3"
	}
	exe, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, fmt.Errorf("python: %w (install Debian's python3)", err)
	}
	base := filepath.Base(exe)
	version, ok := strings.CutPrefix(base, "python")
	if !ok || !strings.Contains(version, ".") {
		return nil, fmt.Errorf("python: %s is not named pythonX.Y", exe)
	}
	prefix := filepath.Dir(filepath.Dir(exe)) // /usr/bin/python3.11 → /usr
	p := &Python{Exe: exe, Version: version}
	stdlib := filepath.Join(prefix, "lib", "python"+version)
	if _, err := os.Stat(filepath.Join(stdlib, "os.py")); err != nil {
		return nil, fmt.Errorf("python: no standard library at %s: %w", stdlib, err)
	}
	p.binds = append(p.binds, sandbox.Bind{Host: stdlib, Target: stdlib})
	// The dynamic loader and the libraries of the interpreter and of its
	// extension modules (lib-dynload: _ssl, _sqlite3, _ctypes, …), where
	// the loader looks for them: the multiarch folders of a merged-/usr
	// Debian, and /lib64 for the loader's own path.
	for _, d := range []string{"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			p.binds = append(p.binds,
				sandbox.Bind{Host: d, Target: d},
				sandbox.Bind{Host: d, Target: strings.TrimPrefix(d, "/usr")})
		}
	}
	if st, err := os.Stat("/lib64"); err == nil && st.IsDir() {
		p.binds = append(p.binds, sandbox.Bind{Host: "/lib64", Target: "/lib64"})
	}
	if len(p.binds) < 2 {
		return nil, errors.New("python: no multiarch library folder (/usr/lib/<arch>-linux-gnu) found")
	}
	empty, err := os.MkdirTemp("", "playdoc-python-shm-")
	if err != nil {
		return nil, fmt.Errorf("python: %w", err)
	}
	if err := os.Chmod(empty, 0o755); err != nil {
		return nil, fmt.Errorf("python: %w", err)
	}
	p.empty = empty
	return p, nil
}

// Close removes the empty folder FindPython made.
func (p *Python) Close() error {
	if err := os.Remove(p.empty); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// pythonScriptDir is where a program's source is visible inside.
const pythonScriptDir = "/src"

// Spec is the sandbox spec that runs the program in scriptDir/main.py (a
// host folder, bound read-only at /src): the interpreter is /prog,
// unbuffered (-u: each print reaches the output when it happens, as on a
// terminal), isolated from the environment and user site-packages (-I),
// in UTF-8 mode.
func (p *Python) Spec(scriptDir string, limits sandbox.Limits) sandbox.Spec {
	binds := append([]sandbox.Bind{{Host: scriptDir, Target: pythonScriptDir}}, p.binds...)
	return sandbox.Spec{
		Binary: p.Exe,
		Args:   []string{"-u", "-I", "-X", "utf8", pythonScriptDir + "/main.py"},
		Binds:  binds,
		// POSIX semaphores (multiprocessing's locks and queues) live in
		// /dev/shm: a small throwaway tmpfs of the run's own.
		Overlays:       []sandbox.Overlay{{Lower: p.empty, Target: "/dev/shm", Size: 16 << 20}},
		Limits:         limits,
		SeccompProfile: sandbox.ProfileProgram,
	}
}

// The languages a program may be written in (the "lang" of a run request).
const (
	LangGo     = "go"
	LangPython = "python"
)

// executePython runs a Python program: no compile (compile-start and a
// zero compile-end keep the events every client expects), the source
// written to a fresh folder bound read-only at /src, the interpreter in
// the sandbox with the same limits as a Go program.
func (s *Server) executePython(ctx context.Context, src []byte, stdin io.Reader, emit func(api.Event)) runReport {
	var rep runReport
	end := func(e api.Event, outcome string) runReport {
		emit(e)
		rep.final, rep.outcome = e, outcome
		return rep
	}
	emit(api.Event{Kind: api.KindCompileStart})
	if s.python == nil {
		return end(api.Event{Kind: api.KindError, Message: "this playground cannot run Python: " + s.pyErr.Error()}, outcomeError)
	}
	dir, err := os.MkdirTemp(s.builder.workRoot, "py-")
	if err != nil {
		return end(api.Event{Kind: api.KindError, Message: "could not prepare the program: " + err.Error()}, outcomeError)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		return end(api.Event{Kind: api.KindError, Message: "could not prepare the program: " + err.Error()}, outcomeError)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.py"), src, 0o644); err != nil {
		return end(api.Event{Kind: api.KindError, Message: "could not prepare the program: " + err.Error()}, outcomeError)
	}
	emit(api.Event{Kind: api.KindCompileEnd})
	spec := s.python.Spec(dir, s.programLimits())
	spec.Stdin = stdin
	last := s.runSpec(ctx, spec, nil, nil, emit)
	return end(last, runOutcome(last))
}
