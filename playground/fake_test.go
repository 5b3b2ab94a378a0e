package playground

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"playdoc/sandbox"
)

// fakeExec is a scripted Executor for the HTTP and protocol tests: it runs
// no program at all. A "build" copies the source into the output binary
// (or fails as the source's //fake: directives say); a "run" replays the
// //fake: directives found in the binary (the copied source):
//
//	//fake:out stdout 100ms text   write "text\n" after 100ms
//	//fake:raw stdout 0s "text"     write the quoted bytes as they are
//	//fake:flood stdout N           write N bytes of 'x' lines at once
//	//fake:long stdout N            write one line of N bytes of "é"
//	//fake:long stdout N P C        ... of the character C after the prefix P
//	//fake:sleep 1s
//	//fake:exit 3
//	//fake:oom                      end as the sandbox reports an OOM kill
//	//fake:compile-error 3:5 msg    the build fails with that diagnostic
//	//fake:compile-hang             the build never ends (until its time limit)
//	//fake:compile-sleep 300ms      the build takes that long
//	//fake:vet 4:2 msg              go vet reports that
type fakeExec struct {
	running atomic.Int64 // processes not yet ended
	builds  atomic.Int64 // go build / go test -c runs
	runs    atomic.Int64 // program runs
	failRun atomic.Bool  // Start of a program fails (sandbox failure)
}

type fakeProc struct {
	out              chan sandbox.Chunk // closed when the script ends
	stdoutW, stderrW fakeWriter
	started          time.Time
	kill             chan struct{}
	killOnce         sync.Once
	done             chan struct{}
	res              sandbox.Result
}

// fakeWriter makes each write one chunk, as the sandbox does.
type fakeWriter struct {
	p *fakeProc
	s sandbox.Stream
}

func (w fakeWriter) Write(b []byte) (int, error) {
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

func (p *fakeProc) Next() (sandbox.Chunk, error) {
	c, ok := <-p.out
	if !ok {
		return c, io.EOF
	}
	return c, nil
}
func (p *fakeProc) Started() time.Time { return p.started }
func (p *fakeProc) Kill()              { p.killOnce.Do(func() { close(p.kill) }) }
func (p *fakeProc) Wait() (sandbox.Result, error) {
	<-p.done
	return p.res, nil
}

func (f *fakeExec) Start(ctx context.Context, spec sandbox.Spec) (Proc, error) {
	p := &fakeProc{started: time.Now(), kill: make(chan struct{}), done: make(chan struct{})}
	p.out = make(chan sandbox.Chunk)
	p.stdoutW, p.stderrW = fakeWriter{p, sandbox.Stdout}, fakeWriter{p, sandbox.Stderr}
	var script []string
	var workHost string
	if spec.SeccompProfile == sandbox.ProfileBuild {
		f.builds.Add(1)
		for _, b := range spec.Binds {
			if b.Target == sandboxWork {
				workHost = b.Host
			}
		}
		if workHost == "" {
			return nil, fmt.Errorf("fake: build without a workspace bind")
		}
		src, err := readGoFiles(workHost)
		if err != nil {
			return nil, err
		}
		script = directives(src)
	} else {
		if f.failRun.Load() {
			return nil, fmt.Errorf("fake: sandbox start failed")
		}
		f.runs.Add(1)
		src, err := os.ReadFile(spec.Binary)
		if err != nil {
			return nil, fmt.Errorf("fake: read binary: %w", err)
		}
		script = directives(string(src))
	}
	f.running.Add(1)
	go func() {
		defer close(p.done)
		defer f.running.Add(-1)
		defer close(p.out)
		deadline := time.NewTimer(spec.Limits.WallTime)
		defer deadline.Stop()
		start := time.Now()
		// wait sleeps d; false if the process was ended meanwhile.
		wait := func(d time.Duration) bool {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return true
			case <-deadline.C:
				p.res.Reason = sandbox.ReasonTimeout
			case <-p.kill:
				p.res.Reason = sandbox.ReasonKilled
			case <-ctx.Done():
				p.res.Reason = sandbox.ReasonKilled
			}
			p.res.ExitCode = -1
			return false
		}
		defer func() { p.res.Wall = time.Since(start) }()
		if spec.SeccompProfile == sandbox.ProfileBuild {
			f.fakeBuild(p, spec, workHost, script, wait)
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

func (f *fakeExec) fakeBuild(p *fakeProc, spec sandbox.Spec, workHost string, script []string, wait func(time.Duration) bool) {
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
	if !strings.HasPrefix(spec.Path, sandboxGoroot) || spec.Dir != sandboxWork {
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
	if err := os.WriteFile(filepath.Join(workHost, strings.TrimPrefix(out, sandboxWork+"/")), []byte(src), 0o755); err != nil {
		fmt.Fprintln(p.stderrW, err)
		p.res.ExitCode = 1
	}
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
