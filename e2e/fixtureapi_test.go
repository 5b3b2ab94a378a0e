package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"playdoc/devserver"
	"playdoc/playground"
	"playdoc/playground/playgroundtest"
	"playdoc/sandbox"
)

// fixtureServer serves the fixture page (testdata/site), the real
// playground.js and CSS as the generator would (one JS, one CSS), and api
// under /api/ and /healthz. Without api, /api/ is 404, as on a static
// host.
func fixtureServer(api http.Handler) (*httptest.Server, error) {
	static := filepath.Join(repoRoot(), "templates", "static")
	js, err := os.ReadFile(filepath.Join(static, "playground.js"))
	if err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	var css []byte
	for _, f := range []string{filepath.Join("testdata", "fixture.css"), filepath.Join(static, "site.css"), filepath.Join(static, "playground.css")} {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("fixture: %w", err)
		}
		css = append(append(css, b...), '\n')
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(filepath.Join("testdata", "site"))))
	asset := func(typ string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", typ)
			w.Write(body)
		}
	}
	mux.HandleFunc("GET /assets/app.js", asset("text/javascript; charset=utf-8", js))
	mux.HandleFunc("GET /assets/app.css", asset("text/css; charset=utf-8", css))
	if api != nil {
		mux.Handle("/api/", api)
		mux.Handle("/healthz", api)
	}
	// Under the published site's strict policy: the playground must work
	// under it (the tests fail on any violation the console reports).
	return httptest.NewServer(devserver.WithCSP(mux)), nil
}

// fixtureAPI is the real playground server over the scripted fake
// sandbox (playgroundtest), whose builds and runs are the fixture's
// programs (play), counting the requests made to it.
type fixtureAPI struct {
	pg       *playgroundtest.Server
	handler  http.Handler
	rec      recordings
	requests atomic.Int64

	mu   sync.Mutex
	held chan struct{} // builds of fake:hold wait until it is closed; nil: no wait
}

// newFixtureAPI starts a playground configured by cfg over the fixture's
// programs; it ends with t.
func newFixtureAPI(t *testing.T, cfg playground.Config) *fixtureAPI {
	t.Helper()
	f := &fixtureAPI{rec: loadRecordings(t)}
	f.pg = playgroundtest.NewServer(t, cfg)
	f.handler = f.pg.Config.Handler
	f.pg.Exec.SetProgram(f.play)
	return f
}

// ServeHTTP implements http.Handler, counting the request.
func (f *fixtureAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	f.handler.ServeHTTP(w, r)
}

// hold makes the builds of programs marked fake:hold last until release
// is called: runs in compilation hold their runner.
func (f *fixtureAPI) hold() (release func()) {
	c := make(chan struct{})
	f.mu.Lock()
	f.held = c
	f.mu.Unlock()
	return sync.OnceFunc(func() {
		f.mu.Lock()
		f.held = nil
		f.mu.Unlock()
		close(c)
	})
}

// recording is a program and what a real run of it wrote on stderr.
type recording struct{ prog, stderr string }

// recordings are the real outputs the fixture's programs replay
// (testdata/recorded, whose notes say how each was made).
type recordings struct {
	deadlock, sigquit, race recording
	trace                   []byte // concurrent.txtar's program, traced
}

func loadRecordings(t *testing.T) recordings {
	t.Helper()
	read := func(name string) recording {
		a, err := txtar.ParseFile(filepath.Join("testdata", "recorded", name))
		if err != nil {
			t.Fatal(err)
		}
		var r recording
		for _, f := range a.Files {
			switch f.Name {
			case "prog.go":
				r.prog = string(f.Data)
			case "stderr":
				r.stderr = string(f.Data)
			}
		}
		if r.prog == "" || r.stderr == "" {
			t.Fatalf("%s: want a prog.go and a stderr", name)
		}
		return r
	}
	rec := recordings{deadlock: read("deadlock.txtar"), sigquit: read("sigquit.txtar"), race: read("race.txtar")}
	if rec.deadlock.prog != stuckProgram {
		t.Fatal("testdata/recorded/deadlock.txtar was not recorded from stuckProgram: record it again")
	}
	b, err := os.ReadFile(filepath.Join("testdata", "recorded", "concurrent.trace"))
	if err != nil {
		t.Fatal(err)
	}
	rec.trace = b
	return rec
}

// play is the fixture's programs, told apart by their source as the
// page's snippets and the tests' edits write them: what each writes and
// how it ends. The server does the rest as for real programs.
func (f *fixtureAPI) play(r *playgroundtest.Run) sandbox.Result {
	src := r.Source
	if r.Build {
		if strings.Contains(src, "fake:part-error") {
			// The build sees the main package's files only: the go
			// command's report of line 4 of part/part.go, as it names it.
			fmt.Fprintf(r.Stderr, "# play/part\npart/part.go:4:2: undefined: undefinedInPart\n")
			return sandbox.Result{ExitCode: 1}
		}
		if line, col, ok := find(src, "undefinedThing"); ok {
			fmt.Fprintf(r.Stderr, "# play\n./prog.go:%d:%d: undefined: undefinedThing\n", line, col)
			return sandbox.Result{ExitCode: 1}
		}
		if strings.Contains(src, "fake:hold") {
			f.mu.Lock()
			c := f.held
			f.mu.Unlock()
			for c != nil {
				select {
				case <-c:
					return sandbox.Result{}
				default:
				}
				if !r.Sleep(20 * time.Millisecond) {
					return sandbox.Result{}
				}
			}
		}
		return sandbox.Result{}
	}
	say := func(w io.Writer, s string) bool {
		_, err := io.WriteString(w, s)
		return err == nil
	}
	if r.Lang == "python" {
		if strings.Contains(src, "fake:fail") {
			say(r.Stderr, "Traceback (most recent call last):\n")
			say(r.Stderr, "RuntimeError: fake failure\n")
			return sandbox.Result{ExitCode: 1}
		}
		// asyncio.gather: three 2-second tasks at once.
		for _, n := range []string{"A", "B", "C"} {
			say(r.Stdout, "Task "+n+" started\n")
		}
		if r.Sleep(2 * time.Second) {
			for _, n := range []string{"A", "B", "C"} {
				say(r.Stdout, "Task "+n+" completed\n")
			}
		}
		return sandbox.Result{}
	}
	switch {
	case strings.Contains(src, f.rec.race.prog):
		if !r.Race {
			return sandbox.Result{} // without the detector the counter is just racy
		}
		say(r.Stderr, f.rec.race.stderr)
		return sandbox.Result{ExitCode: 66}
	case strings.Contains(src, f.rec.deadlock.prog):
		say(r.Stderr, f.rec.deadlock.stderr)
		return sandbox.Result{ExitCode: 2}
	case strings.Contains(src, f.rec.sigquit.prog):
		// Asleep until the time limit, when the sandbox's SIGQUIT makes
		// the runtime dump its goroutines.
		if r.Sleep(time.Minute) {
			return sandbox.Result{}
		}
		say(r.Stderr, f.rec.sigquit.stderr)
		// The sandbox's report: ended at the limit, the runtime's exit
		// status after the dump.
		return sandbox.Result{ExitCode: 2, Reason: sandbox.ReasonTimeout, Wall: r.Limits.WallTime}
	case strings.Contains(src, "fake:stdin"):
		// Echo each read of the standard input, line by line, until EOF.
		if r.Stdin == nil {
			say(r.Stdout, "EOF\n")
			return sandbox.Result{}
		}
		buf := make([]byte, 4096)
		for {
			n, err := r.Stdin.Read(buf)
			for _, l := range strings.SplitAfter(string(buf[:n]), "\n") {
				if l != "" && !say(r.Stdout, "got: "+strings.TrimSuffix(l, "\n")+"\n") {
					return sandbox.Result{}
				}
			}
			if err != nil {
				say(r.Stdout, "EOF\n")
				return sandbox.Result{}
			}
		}
	case strings.Contains(src, "fake:pieces"):
		// The programs: a line printed in pieces, a lone newline,
		// \r progress, colours, and stderr and stdout by turns.
		say(r.Stdout, "Loading")
		for range 5 {
			r.Sleep(40 * time.Millisecond)
			say(r.Stdout, ".")
		}
		for _, p := range []struct {
			w    io.Writer
			data string
		}{
			{r.Stdout, " done"}, {r.Stdout, "\n"},
			{r.Stdout, "progress 10%"}, {r.Stdout, "\rprogress 40%"}, {r.Stdout, "\rprogress 100%\n"},
			{r.Stdout, "\x1b[31mred\x1b[0m \x1b[1"}, {r.Stdout, ";32mgreen\x1b[0m\n"},
			{r.Stderr, "error 0\n"}, {r.Stdout, "output 0\n"}, {r.Stdout, "tail"},
		} {
			say(p.w, p.data)
		}
		return sandbox.Result{}
	case strings.Contains(src, "fake:clear"):
		// The Go playground's convention: "\f" clears the output, so an
		// animation prints "\f" before each frame.
		say(r.Stdout, "title\n")
		for i := 1; i <= 3; i++ {
			r.Sleep(30 * time.Millisecond)
			say(r.Stdout, fmt.Sprintf("\fframe %d\n#.\n", i))
		}
		say(r.Stdout, "[==>]")
		return sandbox.Result{}
	case strings.Contains(src, "fake:image"):
		// The Go playground's way to show an image: a line "IMAGE:" and
		// the base64 of a PNG. Only real PNGs become images.
		pic := image.NewNRGBA(image.Rect(0, 0, 4, 3))
		pic.Set(1, 1, color.NRGBA{R: 255, A: 255})
		var b bytes.Buffer
		if err := png.Encode(&b, pic); err != nil {
			say(r.Stderr, err.Error())
			return sandbox.Result{ExitCode: 1}
		}
		b64 := base64.StdEncoding.EncodeToString
		say(r.Stdout, "IMAGE:"+b64(b.Bytes())+"\n")
		say(r.Stdout, "IMAGE:"+b64([]byte("GIF89a\x04\x00\x03\x00"))+"\n")
		say(r.Stdout, "IMAGE:<img src=x onerror=alert(1)>\n")
		say(r.Stdout, "IMAGE:"+b64(append(b.Bytes()[:8:8], "not a PNG after all"...))+"\n")
		say(r.Stdout, "IMAGE:"+b64(b.Bytes())) // the last line, without a newline
		return sandbox.Result{}
	case strings.Contains(src, "fake:bench"):
		// go test -bench . -benchmem -v output.
		say(r.Stdout, "goos: linux\nBenchmarkSequential\n")
		say(r.Stdout, "BenchmarkSequential-2   \t    1203\t    981234 ns/op\t   16384 B/op\t       3 allocs/op\n")
		say(r.Stdout, "BenchmarkConcurrent\n")
		say(r.Stdout, "BenchmarkConcurrent-2   \t    4410\t    270512.5 ns/op\t   17200 B/op\t      12 allocs/op\n")
		say(r.Stdout, "PASS\n")
		return sandbox.Result{}
	case strings.Contains(src, "time.Hour"):
		say(r.Stdout, "waiting forever\n")
		r.Sleep(time.Hour)
		return sandbox.Result{}
	case strings.Contains(src, "fake:hold"):
		return sandbox.Result{} // its build was the point
	case strings.Contains(src, "fake:timeout"):
		say(r.Stdout, "working\n")
		if r.Sleep(time.Hour) {
			return sandbox.Result{}
		}
		// The sandbox's report of a kill at the wall-time limit.
		return sandbox.Result{ExitCode: -1, Reason: sandbox.ReasonTimeout, Wall: r.Limits.WallTime, CPU: 9 * time.Second}
	case strings.Contains(src, "fake:oom"):
		say(r.Stderr, "fatal error: runtime: out of memory\n")
		return sandbox.Result{ExitCode: 2, Reason: sandbox.ReasonOOM, Wall: 120 * time.Millisecond, CPU: 100 * time.Millisecond, PeakMemory: 256 << 20}
	case strings.Contains(src, "fake:output-limit"):
		// Prints until the server kills it for the output limit.
		line := strings.Repeat("spam ", 200) + "\n"
		for i := 0; i < 1<<14 && say(r.Stdout, line); i++ {
		}
		return sandbox.Result{}
	case strings.Contains(src, "fake:long"):
		say(r.Stdout, strings.Repeat("a long line of output ", 40)+"\n")
		say(r.Stderr, strings.Repeat("a long error ", 40)+"\n")
		return sandbox.Result{ExitCode: 1}
	case strings.Contains(src, "go func"):
		// The concurrent version: three tasks asleep together.
		for n := 1; n <= 3; n++ {
			say(r.Stdout, fmt.Sprintf("task %d: start\n", n))
		}
		if !r.Sleep(2 * time.Second) {
			return sandbox.Result{}
		}
		for n := 1; n <= 3; n++ {
			say(r.Stdout, fmt.Sprintf("task %d: done\n", n))
		}
		if r.Extra != nil {
			// The fixture's concurrent snippet traced: its recorded trace,
			// placed at this run's start.
			b, err := retimeTrace(f.rec.trace, r.Started.Add(time.Millisecond))
			if err == nil {
				_, err = r.Extra.Write(b)
			}
			if err != nil {
				say(r.Stderr, "fixture: the recorded trace: "+err.Error()+"\n")
				return sandbox.Result{ExitCode: 1}
			}
		}
		return sandbox.Result{}
	default: // the sequential version
		for n := 1; n <= 3; n++ {
			say(r.Stdout, fmt.Sprintf("task %d: start\n", n))
			if !r.Sleep(2 * time.Second) {
				return sandbox.Result{}
			}
			say(r.Stdout, fmt.Sprintf("task %d: done\n", n))
		}
		say(r.Stderr, "a line on stderr\n")
		return sandbox.Result{}
	}
}

// find returns the 1-based line and column of the first occurrence of s.
func find(code, s string) (line, col int, ok bool) {
	for i, l := range strings.Split(code, "\n") {
		if c := strings.Index(l, s); c >= 0 {
			return i + 1, c + 1, true
		}
	}
	return 0, 0, false
}
