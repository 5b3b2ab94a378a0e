// Package scripted is the fake sandbox of the playground's tests: an
// executor that runs nothing and replays directives written in the
// submitted source instead. The playground's own tests and the exported
// kit playground/playgroundtest share it.
package scripted

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"playdoc/sandbox"
)

// Exec is a scripted executor for the HTTP and protocol tests: it runs no
// program at all. A "build" copies the source into the output binary
// (or fails as the source's //fake: directives say); a "run" replays the
// //fake: directives found in the binary (the copied source):
//
//	//fake:out stdout 100ms text   write "text\n" after 100ms
//	//fake:raw stdout 0s "text"     write the quoted bytes as they are
//	//fake:flood stdout N           write N bytes of 'x' lines at once
//	//fake:long stdout N            write one line of N bytes of "é"
//	//fake:long stdout N P C        ... of the character C after the prefix P
//	//fake:sleep 1s
//	//fake:cat                      copy stdin to stdout, each read one write, until EOF
//	//fake:exit 3
//	//fake:oom                      end as the sandbox reports an OOM kill
//	//fake:compile-error 3:5 msg    the build fails with that diagnostic
//	//fake:compile-hang             the build never ends (until its time limit)
//	//fake:compile-sleep 300ms      the build takes that long
//	//fake:vet 4:2 msg              go vet reports that
//
// A build is a spec with the build seccomp profile whose Dir is the
// target of the workspace bind; a run is any other spec, whose Binary is
// the "built" source (a Python run's script is main.py in the bind at
// /src instead).
//
// With Program set, Program plays every user build and every run instead
// of the directives.
type Exec struct {
	Running atomic.Int64 // processes not yet ended
	Builds  atomic.Int64 // go build / go test -c runs
	Runs    atomic.Int64 // program runs
	FailRun atomic.Bool  // Start of a program fails (sandbox failure)
	// Program, if set, plays each go build and go test -c (vet and the
	// warm-up's other go commands succeed at once) and each run; it is
	// read at each Start.
	Program atomic.Pointer[Program]
}

// Program plays one build or run: it writes what the program would to
// r.Stdout, r.Stderr and r.Extra, sleeping with r.Sleep, and returns its
// result. A zero Reason is replaced by the sandbox's when the process
// was killed or ran out of time (ExitCode -1 then); a zero Wall by the
// time it took; a zero PeakMemory by 2 MiB. A build that exits non-zero
// fails with its stderr as the compiler's output; one that exits 0
// writes the "binary" (the source) as the directives' builds do.
type Program func(r *Run) sandbox.Result

// Run is one build or run given to a Program.
type Run struct {
	Build bool     // a go build or go test -c of the workspace
	Args  []string // the go command's arguments, or the program's
	Lang  string   // "go", or "python" for a run of a Python script
	Race  bool     // a run of a binary built with -race
	// Source is the program: a build's .go files, concatenated in name
	// order; a run's built source; a Python run's main.py.
	Source string
	Limits sandbox.Limits // the spec's
	// Started is when the process started: output offsets count from it.
	Started time.Time
	Stdin   io.Reader // the program's standard input; nil: none
	// Stdout and Stderr make each write one chunk, as the sandbox does;
	// writes fail once the process is killed.
	Stdout, Stderr io.Writer
	// Extra is the spec's ExtraOutput (a traced run's descriptor 3), or
	// nil; the Exec closes it when the Program returns.
	Extra io.Writer
	// Sleep waits d; false once the process was killed or reached its
	// wall-time limit meanwhile (the Program should then return).
	Sleep func(d time.Duration) bool
}

// raceMark ends the "binary" of a build with -race, so that its runs know.
const raceMark = "\n//scripted:race\n"

// Proc is a scripted process: Kill and the wall-time limit end it.
type Proc struct {
	out              chan sandbox.Chunk // closed when the script ends
	stdoutW, stderrW writer
	started          time.Time
	kill             chan struct{}
	killOnce         sync.Once
	done             chan struct{}
	res              sandbox.Result
}

// writer makes each write one chunk, as the sandbox does.
type writer struct {
	p *Proc
	s sandbox.Stream
}

func (w writer) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	select {
	case w.p.out <- sandbox.Chunk{Stream: w.s, Data: bytes.Clone(b), At: time.Now()}:
		return len(b), nil
	case <-w.p.kill:
		return 0, io.ErrClosedPipe
	}
}

// Next returns the next chunk the script wrote, in write order across
// both streams; io.EOF once the script has ended.
func (p *Proc) Next() (sandbox.Chunk, error) {
	c, ok := <-p.out
	if !ok {
		return c, io.EOF
	}
	return c, nil
}

// Started is when the process started.
func (p *Proc) Started() time.Time { return p.started }

// Kill ends the process (its result's reason is killed); more calls do
// nothing.
func (p *Proc) Kill() { p.killOnce.Do(func() { close(p.kill) }) }

// Wait returns the result once the process has ended; it never fails.
func (p *Proc) Wait() (sandbox.Result, error) {
	<-p.done
	return p.res, nil
}

// Start starts the build or the run spec describes, as its source's
// directives script it.
func (f *Exec) Start(ctx context.Context, spec sandbox.Spec) (*Proc, error) {
	p := &Proc{started: time.Now(), kill: make(chan struct{}), done: make(chan struct{})}
	p.out = make(chan sandbox.Chunk)
	p.stdoutW, p.stderrW = writer{p, sandbox.Stdout}, writer{p, sandbox.Stderr}
	var script []string
	var workHost, src, lang string
	prog := f.Program.Load()
	if spec.SeccompProfile == sandbox.ProfileBuild {
		f.Builds.Add(1)
		for _, b := range spec.Binds {
			if b.Target == spec.Dir {
				workHost = b.Host
			}
		}
		if workHost == "" {
			return nil, fmt.Errorf("fake: build without a workspace bind")
		}
		var err error
		if src, err = readGoFiles(workHost); err != nil {
			return nil, err
		}
		script = directives(src)
	} else {
		if f.FailRun.Load() {
			return nil, fmt.Errorf("fake: sandbox start failed")
		}
		f.Runs.Add(1)
		var err error
		if src, lang, err = runSource(spec); err != nil {
			return nil, err
		}
		script = directives(src)
	}
	var extra *os.File
	if spec.ExtraOutput != nil && prog != nil {
		// The caller closes its copy once Start returns, as the sandbox's
		// callers do: the program keeps a duplicate.
		var err error
		if extra, err = dupFile(spec.ExtraOutput); err != nil {
			return nil, fmt.Errorf("fake: extra output: %w", err)
		}
	}
	f.Running.Add(1)
	go func() {
		defer close(p.done)
		defer f.Running.Add(-1)
		defer close(p.out)
		// Closed at the wall-time limit: every later wait sees it too.
		deadline := make(chan struct{})
		limit := time.AfterFunc(spec.Limits.WallTime, func() { close(deadline) })
		defer limit.Stop()
		// The wall time counts from Started, as the output's offsets do
		// (and as the sandbox's does): the source was read and this
		// goroutine started in between, which under load took tens of ms,
		// so a program's last line came after its wall time.
		start := p.started
		// wait sleeps d; false if the process was ended meanwhile.
		wait := func(d time.Duration) bool {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return true
			case <-deadline:
				p.res.Reason = sandbox.ReasonTimeout
			case <-p.kill:
				p.res.Reason = sandbox.ReasonKilled
			case <-ctx.Done():
				p.res.Reason = sandbox.ReasonKilled
			}
			p.res.ExitCode = -1
			return false
		}
		defer func() {
			if p.res.Wall == 0 {
				p.res.Wall = time.Since(start)
			}
		}()
		if prog != nil {
			if extra != nil {
				defer extra.Close()
			}
			f.play(p, *prog, spec, workHost, src, lang, extra, wait)
			return
		}
		if spec.SeccompProfile == sandbox.ProfileBuild {
			f.build(p, spec, workHost, script, wait)
			return
		}
		p.res.PeakMemory = 2 << 20
		for _, line := range script {
			verb, rest, _ := strings.Cut(line, " ")
			args := strings.SplitN(rest, " ", 3)
			w := p.stdoutW
			if len(args) > 0 && args[0] == "stderr" {
				w = p.stderrW
			}
			switch verb {
			case "out", "raw":
				d, _ := time.ParseDuration(args[1])
				if !wait(d) {
					return
				}
				text := args[2] + "\n"
				if verb == "raw" {
					text, _ = strconv.Unquote(args[2])
				}
				if _, err := io.WriteString(w, text); err != nil {
					return
				}
			case "long":
				n, _ := strconv.Atoi(args[1])
				prefix, char := "", "é"
				if len(args) > 2 {
					if f := strings.Fields(args[2]); len(f) == 2 {
						prefix, char = f[0], f[1]
					}
				}
				if _, err := io.WriteString(w, prefix+strings.Repeat(char, n/len(char))+"\n"); err != nil {
					return
				}
			case "flood":
				n, _ := strconv.Atoi(args[1])
				line := strings.Repeat("x", 1023) + "\n"
				for written := 0; written < n; written += len(line) {
					select {
					case <-p.kill:
						p.res.Reason, p.res.ExitCode = sandbox.ReasonKilled, -1
						return
					default:
					}
					if _, err := io.WriteString(w, line); err != nil {
						return
					}
				}
			case "cat":
				if spec.Stdin == nil {
					continue
				}
				buf := make([]byte, 4096)
				for {
					n, err := spec.Stdin.Read(buf)
					if n > 0 {
						if _, werr := p.stdoutW.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						break
					}
				}
			case "sleep":
				d, _ := time.ParseDuration(args[0])
				if !wait(d) {
					return
				}
			case "exit":
				p.res.ExitCode, _ = strconv.Atoi(args[0])
				return
			case "oom":
				p.res.Reason, p.res.ExitCode = sandbox.ReasonOOM, -1
				return
			}
		}
	}()
	return p, nil
}

// play runs prog for a build or a run, as Program says.
func (f *Exec) play(p *Proc, prog Program, spec sandbox.Spec, workHost, src, lang string, extra *os.File, wait func(time.Duration) bool) {
	build := spec.SeccompProfile == sandbox.ProfileBuild
	if build && spec.Args[0] != "build" && spec.Args[0] != "test" {
		return // vet and the warm-up's other go commands
	}
	r := &Run{Build: build, Args: spec.Args, Lang: lang, Source: src, Limits: spec.Limits, Started: p.started,
		Stdin: spec.Stdin, Stdout: p.stdoutW, Stderr: p.stderrW, Sleep: wait}
	if extra != nil {
		r.Extra = extra
	}
	if build {
		r.Lang = "go"
	} else if s, ok := strings.CutSuffix(src, raceMark); ok {
		r.Source, r.Race = s, true
	}
	res := prog(r)
	if res.Reason == sandbox.ReasonNone && p.res.Reason != sandbox.ReasonNone {
		res.Reason, res.ExitCode = p.res.Reason, -1 // what wait saw
	}
	if res.PeakMemory == 0 {
		res.PeakMemory = 2 << 20
	}
	p.res = res
	if build && res.ExitCode == 0 {
		f.build(p, spec, workHost, nil, wait)
	}
}

func (f *Exec) build(p *Proc, spec sandbox.Spec, workHost string, script []string, wait func(time.Duration) bool) {
	vet := spec.Args[0] == "vet"
	for _, line := range script {
		verb, rest, _ := strings.Cut(line, " ")
		switch verb {
		case "compile-sleep":
			d, _ := time.ParseDuration(rest)
			if !wait(d) {
				return
			}
		case "compile-hang":
			if !wait(time.Hour) {
				return
			}
		case "compile-error", "vet":
			if (verb == "vet") != vet {
				continue
			}
			pos, msg, _ := strings.Cut(rest, " ")
			fmt.Fprintf(p.stderrW, "# play\n./prog.go:%s: %s\n", pos, msg)
			p.res.ExitCode = 1
			return
		}
	}
	if vet {
		return
	}
	if spec.Path == "" || workHost == "" {
		fmt.Fprintf(p.stderrW, "fake: unexpected build spec %+v\n", spec)
		p.res.ExitCode = 2
		return
	}
	if spec.Args[0] != "build" && spec.Args[0] != "test" {
		return // the warm-up's other go commands
	}
	out := ""
	for i, a := range spec.Args {
		if a == "-o" {
			out = spec.Args[i+1]
		}
	}
	src, _ := readGoFiles(workHost)
	if slices.Contains(spec.Args, "-race") {
		src += raceMark
	}
	if err := os.WriteFile(filepath.Join(workHost, strings.TrimPrefix(out, spec.Dir+"/")), []byte(src), 0o755); err != nil {
		fmt.Fprintln(p.stderrW, err)
		p.res.ExitCode = 1
	}
}

// runSource is the program a run spec runs: a Python script (main.py in
// the folder bound at /src) or the "binary" a build wrote.
func runSource(spec sandbox.Spec) (src, lang string, err error) {
	for _, b := range spec.Binds {
		if b.Target == "/src" {
			s, err := os.ReadFile(filepath.Join(b.Host, "main.py"))
			if err != nil {
				return "", "", fmt.Errorf("fake: read script: %w", err)
			}
			return string(s), "python", nil
		}
	}
	s, err := os.ReadFile(spec.Binary)
	if err != nil {
		return "", "", fmt.Errorf("fake: read binary: %w", err)
	}
	return string(s), "go", nil
}

// readGoFiles concatenates the .go files of a workspace.
func readGoFiles(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".go") {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				return "", err
			}
			sb.Write(b)
			sb.WriteByte('\n')
		}
	}
	return sb.String(), nil
}

// directives returns the //fake: lines of a source, prefix removed.
func directives(src string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(src))
	for sc.Scan() {
		if l, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "//fake:"); ok {
			out = append(out, l)
		}
	}
	return out
}
