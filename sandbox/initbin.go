//go:build linux && !playdoc_init

package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// source is this package's own code, from which BuildInit compiles the
// init as a program of its own. Test files are skipped when it is written.
//
//go:embed *.go
var source embed.FS

// initTag is the build tag of the init program: files with
// "!playdoc_init" in their build constraint are the server's alone.
const initTag = "playdoc_init"

// initMain is the whole init program: this package's Main.
const initMain = `package main

import (
	"os"

	"playdoc/sandbox"
)

func main() {
	sandbox.Main()
	os.Exit(2) // not started as a sandbox init
}
`

// BuildInit compiles the sandbox's init as a small program of its own (this
// package and what it imports, ~2.5 MB) and returns its path. A re-executed
// host binary pays its whole package initialisation at every run: for
// playdoc, with the generator's highlighter and Markdown parser linked,
// ~70 ms of CPU before the sandbox does anything, against ~2 ms for this one.
//
// The module versions are those the calling binary was built with
// (runtime/debug.ReadBuildInfo), so the init is the same code as the
// package it came from. The result is cached in b.Dir under a hash of the
// source, the go.mod and the toolchain version; a second call returns at
// once. Errors name the step that failed (reading the build info, the go
// command's output).
func BuildInit(ctx context.Context, b InitBuild) (string, error) {
	if b.Dir == "" {
		return "", errors.New("build the sandbox init: no folder given")
	}
	goBin := b.Go
	if goBin == "" {
		p, err := exec.LookPath("go")
		if err != nil {
			return "", fmt.Errorf("build the sandbox init: %w", err)
		}
		goBin = p
	}
	gomod, err := initGoMod()
	if err != nil {
		return "", fmt.Errorf("build the sandbox init: %w", err)
	}
	files, err := initSources()
	if err != nil {
		return "", fmt.Errorf("build the sandbox init: %w", err)
	}
	version, err := exec.CommandContext(ctx, goBin, "env", "GOVERSION").Output()
	if err != nil {
		return "", fmt.Errorf("build the sandbox init: go env GOVERSION: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", bytes.TrimSpace(version), gomod)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00%s", n, len(files[n]), files[n])
	}
	out := filepath.Join(b.Dir, "init-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(out); err == nil {
		markUsed(out)
		removeOldInits(b.Dir, out, time.Now())
		return out, nil
	}

	if err := os.MkdirAll(b.Dir, 0o755); err != nil {
		return "", fmt.Errorf("build the sandbox init: %w", err)
	}
	work, err := os.MkdirTemp(b.Dir, "build-")
	if err != nil {
		return "", fmt.Errorf("build the sandbox init: %w", err)
	}
	defer os.RemoveAll(work)
	write := func(name string, data []byte) error {
		p := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, data, 0o644)
	}
	if err := write("go.mod", gomod); err != nil {
		return "", fmt.Errorf("build the sandbox init: %w", err)
	}
	if err := write("main.go", []byte(initMain)); err != nil {
		return "", fmt.Errorf("build the sandbox init: %w", err)
	}
	for n, data := range files {
		if err := write(filepath.Join("sandbox", n), data); err != nil {
			return "", fmt.Errorf("build the sandbox init: %w", err)
		}
	}
	tmp := out + ".tmp"
	build := func(env ...string) error {
		// The tag leaves out the server's side (seccomp assembly and its
		// syscall tables, cgroups, output, the hash): package
		// initialisation the init would pay at every run.
		cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-tags", initTag, "-ldflags=-s -w", "-o", tmp, ".")
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
		if b.ModCache != "" {
			cmd.Env = append(cmd.Env, "GOMODCACHE="+b.ModCache)
		}
		cmd.Env = append(cmd.Env, env...)
		if msg, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %w: %s", err, bytes.TrimSpace(msg))
		}
		return nil
	}
	if b.Proxy != "" {
		err = build("GOPROXY=" + b.Proxy)
	} else {
		// The host's module cache first: playdoc's own go.sum verified
		// it when playdoc was built. Then the module proxy, checked
		// against the checksum database.
		err = errors.New("no host module cache")
		if hostCache, herr := exec.CommandContext(ctx, goBin, "env", "GOMODCACHE").Output(); herr == nil {
			local := filepath.Join(strings.TrimSpace(string(hostCache)), "cache", "download")
			err = build("GOPROXY=file://"+filepath.ToSlash(local), "GOSUMDB=off")
		}
		if err != nil {
			err = build("GOPROXY=https://proxy.golang.org")
		}
	}
	if err != nil {
		return "", fmt.Errorf("build the sandbox init: %w", err)
	}
	// The sandbox's uid executes it (through a sealed copy, see
	// openInitBinary); the rename makes a concurrent builder's result and
	// ours interchangeable.
	if err := os.Chmod(tmp, 0o555); err != nil {
		return "", fmt.Errorf("build the sandbox init: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", fmt.Errorf("build the sandbox init: %w", err)
	}
	removeOldInits(b.Dir, out, time.Now())
	return out, nil
}

// initKeep is how long an init program (or a build folder) nobody used
// stays in InitBuild.Dir: another server from the same data folder, of
// another version, may have just built its own and not yet loaded it
// (once loaded, its memfd copy no longer needs the file).
const initKeep = 10 * time.Minute

// markUsed sets path's modification time to now: the time it was last
// used, which removeOldInits goes by.
func markUsed(path string) {
	now := time.Now()
	_ = os.Chtimes(path, now, now)
}

// removeOldInits deletes the init programs, build folders and partial
// outputs in dir other than keep that were last used (or written) more
// than initKeep before now: each source or toolchain change builds a new
// 2.5 MB init, and nothing else removes the old ones. Failures are
// ignored: the next build tries again.
func removeOldInits(dir, keep string, now time.Time) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		n := e.Name()
		p := filepath.Join(dir, n)
		if p == keep || !(strings.HasPrefix(n, "init-") || strings.HasPrefix(n, "build-")) {
			continue
		}
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) < initKeep {
			continue
		}
		_ = os.RemoveAll(p)
	}
}

// initSources returns this package's non-test Go files.
func initSources() (map[string][]byte, error) {
	ents, err := fs.ReadDir(source, ".")
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		b, err := source.ReadFile(n)
		if err != nil {
			return nil, err
		}
		files[n] = b
	}
	if len(files) == 0 {
		return nil, errors.New("no embedded source")
	}
	return files, nil
}

// initGoMod is the go.mod of the init program: module playdoc (so that the
// package keeps its import path), requiring every module the calling
// binary was built with, at the same versions.
func initGoMod() ([]byte, error) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil, errors.New("no build information in this binary")
	}
	var b strings.Builder
	b.WriteString("module playdoc\n\ngo 1.26\n\nrequire (\n")
	for _, d := range bi.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		if m.Version == "" || m.Version == "(devel)" {
			return nil, fmt.Errorf("module %s has no version (replaced by a folder?)", d.Path)
		}
		fmt.Fprintf(&b, "\t%s %s\n", d.Path, m.Version)
	}
	b.WriteString(")\n")
	return []byte(b.String()), nil
}

// openInitBinary copies the init program into a sealed memfd, which every
// init is exec'ed from (as /proc/self/fd/N): the sandbox's uid need not
// reach the data folder, and nothing can change the binary under running
// sandboxes (runc runs its own binary the same way).
func openInitBinary(path string) (*os.File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sandbox init binary: %w", err)
	}
	fd, err := unix.MemfdCreate("playdoc-sandbox-init", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) { // kernels before 6.3 know no MFD_EXEC
		fd, err = unix.MemfdCreate("playdoc-sandbox-init", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox init binary: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "playdoc-sandbox-init")
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("sandbox init binary: %w", err)
	}
	seals := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE | unix.F_SEAL_SEAL
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("sandbox init binary: seal: %w", err)
	}
	return f, nil
}
