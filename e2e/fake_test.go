package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"playdoc/devserver"
	"playdoc/playground/api"
)

// withCSP serves h under the published site's strict policy: the
// playground must work under it (the tests fail on any violation the
// console reports).
func withCSP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", devserver.CSP)
		h.ServeHTTP(w, r)
	})
}

// fakeAPI imitates the playground API of docs/contracts.md §3 with scripted
// runs chosen by markers in the code, so that the page's handling of every
// outcome (streaming, compile errors, stop, busy, limits) can be exercised
// without the sandbox.
type fakeAPI struct {
	mu       sync.Mutex
	nextID   int
	running  map[string]context.CancelFunc
	stdin    map[string]chan stdinReq // per run, for /api/stdin
	requests int                      // every request to the API, to prove none is made on load
}

// count wraps an API handler to count its requests.
func (f *fakeAPI) count(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests++
		f.mu.Unlock()
		h(w, r)
	}
}

func (f *fakeAPI) requestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// fixtureServer serves the fixture page (testdata/site), the real
// playground.js and CSS as the generator would (one JS, one CSS), and, when
// api is not nil, the fake API under /api/. Without api, /api/ is 404, as on
// a static host.
func fixtureServer(api *fakeAPI) (*httptest.Server, error) {
	return fixtureServerWith(api, nil)
}

// fixtureServerWith is fixtureServer whose /api/ is down when api is nil:
// answered by down, or 404 (a static host) when down is nil too.
func fixtureServerWith(api *fakeAPI, down http.Handler) (*httptest.Server, error) {
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
		api.running = map[string]context.CancelFunc{}
		api.stdin = map[string]chan stdinReq{}
		mux.HandleFunc("/api/", api.count(http.NotFound))
		mux.HandleFunc("POST /api/run", api.count(api.run))
		mux.HandleFunc("POST /api/stop", api.count(api.stop))
		mux.HandleFunc("POST /api/stdin", api.count(api.stdinPost))
		mux.HandleFunc("POST /api/fmt", api.count(api.fmt))
		mux.HandleFunc("/healthz", api.count(api.healthz))
	} else if down != nil {
		mux.Handle("/api/", down)
	}
	return httptest.NewServer(withCSP(mux)), nil
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (f *fakeAPI) run(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Code      string
		Lang      string
		Stdin     string
		StdinOpen bool
		Trace     bool
		Race      bool
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		jsonError(w, http.StatusBadRequest, "bad JSON: "+err.Error())
		return
	}
	code := req.Code
	switch {
	case strings.Contains(code, "fake:busy"):
		w.Header().Set("Retry-After", "7")
		jsonError(w, http.StatusTooManyRequests, "too many runs")
		return
	case strings.Contains(code, "fake:reject"):
		jsonError(w, http.StatusBadRequest, "code too large (max 64 KiB)")
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	f.mu.Lock()
	f.nextID++
	id := "run" + strconv.Itoa(f.nextID)
	f.running[id] = cancel
	in := make(chan stdinReq, 16)
	f.stdin[id] = in
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.running, id)
		f.mu.Unlock()
	}()

	w.Header().Set("Content-Type", "application/x-ndjson")
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	send := func(ev api.Event) {
		enc.Encode(ev)
		if flusher != nil {
			flusher.Flush()
		}
	}
	send(api.Event{Kind: api.KindAccepted, ID: id})
	send(api.Event{Kind: api.KindCompileStart})
	if line, col, ok := find(code, "undefinedThing"); ok {
		msg := "undefined: undefinedThing"
		send(api.Event{Kind: api.KindCompileError, Message: fmt.Sprintf("./prog.go:%d:%d: %s", line, col, msg),
			Errors: []api.Diag{{File: "prog.go", Line: line, Col: col, Msg: msg}}})
		return
	}
	send(api.Event{Kind: api.KindCompileEnd, Compile: 240 * time.Millisecond, Cached: strings.Contains(code, "fake:cached")})
	start := time.Now()
	send(api.Event{Kind: api.KindStart})
	out := func(stream api.Kind, text string) {
		send(api.Event{Kind: stream, T: time.Since(start), Data: text + "\n"})
	}
	exit := func(code int, reason api.Reason) {
		send(api.Event{Kind: api.KindExit, Code: code, Wall: time.Since(start).Truncate(time.Millisecond), CPU: 3 * time.Millisecond,
			PeakMemKB: 2048, Reason: reason})
	}
	sleep := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	piece := func(stream api.Kind, data string) {
		send(api.Event{Kind: stream, T: time.Since(start), Data: data})
	}
	switch {
	case req.Race:
		// A race build of a shared counter: the report on stderr, and
		// the race event placing both accesses on the line of n++.
		line, _, _ := find(code, "n++")
		piece(api.KindStderr, fmt.Sprintf("==================\nWARNING: DATA RACE\nRead at 0x00c000018078 by goroutine 9:\n  main.main.func1()\n      play/prog.go:%d +0x2e\n", line))
		access := func(op string, g int, prev bool) api.RaceAccess {
			return api.RaceAccess{Op: op, Previous: prev, Goroutine: g, File: "prog.go", Line: line, EditorLine: line, Code: "n++"}
		}
		send(api.Event{Kind: api.KindRace, Count: 1,
			Summary: fmt.Sprintf("Data race: goroutine 9 reads at line %d (`n++`) what goroutine 8 wrote at line %d without synchronisation.", line, line),
			Races:   []api.Race{{Summary: "r", Accesses: []api.RaceAccess{access("read", 9, false), access("write", 8, true)}}}})
		exit(66, api.ReasonNone)
	case strings.Contains(code, "fake:stdin"):
		// Echo the standard input, line by line, until EOF.
		echo := func(s string) { piece(api.KindStdout, "got: "+strings.TrimSuffix(s, "\n")+"\n") }
		if req.Stdin != "" {
			echo(req.Stdin)
		}
		for req.StdinOpen {
			select {
			case r := <-in:
				if r.Data != "" {
					echo(r.Data)
				}
				if r.EOF {
					piece(api.KindStdout, "EOF\n")
					req.StdinOpen = false
				}
			case <-ctx.Done():
				return
			}
		}
		exit(0, "")
	case strings.Contains(code, "fake:pieces"):
		// The programs: a line printed in pieces, a lone newline,
		// \r progress, colours, and stderr and stdout by turns.
		piece(api.KindStdout, "Loading")
		for i := 0; i < 5; i++ {
			sleep(40 * time.Millisecond)
			piece(api.KindStdout, ".")
		}
		piece(api.KindStdout, " done")
		piece(api.KindStdout, "\n")
		piece(api.KindStdout, "progress 10%")
		piece(api.KindStdout, "\rprogress 40%")
		piece(api.KindStdout, "\rprogress 100%\n")
		piece(api.KindStdout, "\x1b[31mred\x1b[0m \x1b[1")
		piece(api.KindStdout, ";32mgreen\x1b[0m\n")
		piece(api.KindStderr, "error 0\n")
		piece(api.KindStdout, "output 0\n")
		piece(api.KindStdout, "tail")
		exit(0, "")
	case strings.Contains(code, "fake:bench"):
		// go test -bench . -benchmem -v output.
		out("stdout", "goos: linux")
		out("stdout", "BenchmarkSequential")
		out("stdout", "BenchmarkSequential-2   \t    1203\t    981234 ns/op\t   16384 B/op\t       3 allocs/op")
		out("stdout", "BenchmarkConcurrent")
		out("stdout", "BenchmarkConcurrent-2   \t    4410\t    270512.5 ns/op\t   17200 B/op\t      12 allocs/op")
		out("stdout", "PASS")
		exit(0, "")
	case strings.Contains(code, "time.Hour"):
		out(api.KindStdout, "waiting forever")
		sleep(time.Hour)
		exit(-1, api.ReasonKilled)
	case strings.Contains(code, "fake:deadlock"):
		// stuckProgram's deadlock, as the server reports it.
		wait, _, _ := find(code, "wg.Wait()")
		send1, _, _ := find(code, "results <- i")
		for _, l := range []string{"fatal error: all goroutines are asleep - deadlock!", "", "goroutine 1 [sync.WaitGroup.Wait]:"} {
			out(api.KindStderr, l)
		}
		send(api.Event{Kind: api.KindStuck, Deadlock: true,
			Summary: fmt.Sprintf("Deadlock: every goroutine is blocked. Main is waiting on a WaitGroup at line %d (`wg.Wait()`); 3 goroutines are blocked sending on a channel at line %d.", wait, send1),
			Goroutines: []api.Goroutine{
				{IDs: []int{1}, State: "sync.WaitGroup.Wait", Wait: "waiting on a WaitGroup", File: "prog.go", Line: wait, EditorLine: wait, Func: "main.main"},
				{IDs: []int{5, 6, 7}, State: "chan send", Wait: "blocked sending on a channel", File: "prog.go", Line: send1, EditorLine: send1, Func: "main.main.func1"},
			}})
		exit(2, api.ReasonNone)
	case strings.Contains(code, "fake:stuck-timeout"):
		line, _, _ := find(code, "time.Sleep")
		send(api.Event{Kind: api.KindStuck, Summary: fmt.Sprintf("At the time limit: main is sleeping at line %d.", line),
			Goroutines: []api.Goroutine{{IDs: []int{1}, State: "sleep", Wait: "sleeping", File: "prog.go", Line: line, EditorLine: line}},
			Dump:       fmt.Sprintf("goroutine 1 [sleep]:\ntime.Sleep(0x34630b8a000)\n\truntime/time.go:363 +0x165\nmain.main()\n\tplay/prog.go:%d +0x6e\n", line)})
		send(api.Event{Kind: api.KindExit, Code: 2, Wall: 2 * time.Second, CPU: time.Millisecond, PeakMemKB: 2048, Reason: api.ReasonTimeout})
	case strings.Contains(code, "fake:timeout"):
		out(api.KindStdout, "working")
		send(api.Event{Kind: api.KindExit, Code: -1, Wall: 10 * time.Second, CPU: 9 * time.Second, PeakMemKB: 2048, Reason: api.ReasonTimeout})
	case strings.Contains(code, "fake:oom"):
		out(api.KindStderr, "fatal error: runtime: out of memory")
		send(api.Event{Kind: api.KindExit, Code: 2, Wall: 120 * time.Millisecond, CPU: 100 * time.Millisecond, PeakMemKB: 262144, Reason: api.ReasonOOM,
			Message: "the program ran out of memory (limit 256 MiB) and was killed"})
	case strings.Contains(code, "fake:output-limit"):
		out(api.KindStdout, "spam")
		exit(-1, api.ReasonOutputLimit)
	case strings.Contains(code, "fake:long"):
		out(api.KindStdout, strings.Repeat("a long line of output ", 40))
		out(api.KindStderr, strings.Repeat("a long error ", 40))
		exit(1, api.ReasonNone)
	case req.Lang == "python" && strings.Contains(code, "fake:fail"):
		out(api.KindStderr, "Traceback (most recent call last):")
		out(api.KindStderr, "RuntimeError: fake failure")
		exit(1, api.ReasonNone)
	case req.Lang == "python": // asyncio.gather: three 2-second tasks at once
		for _, n := range []string{"A", "B", "C"} {
			out(api.KindStdout, "Task "+n+" started")
		}
		if sleep(2 * time.Second) {
			for _, n := range []string{"A", "B", "C"} {
				out(api.KindStdout, "Task "+n+" completed")
			}
		}
		exit(0, api.ReasonNone)
	case strings.Contains(code, "fake:error"):
		send(api.Event{Kind: api.KindError, Message: "sandbox setup failed"})
	case strings.Contains(code, "go func"): // the concurrent version
		for n := 1; n <= 3; n++ {
			out(api.KindStdout, fmt.Sprintf("task %d: start", n))
		}
		if sleep(2 * time.Second) {
			for n := 1; n <= 3; n++ {
				out(api.KindStdout, fmt.Sprintf("task %d: done", n))
			}
		}
		if req.Trace {
			send(fakeTrace(code, api.Millis(time.Since(start))))
		}
		exit(0, api.ReasonNone)
	default: // the sequential version
		for n := 1; n <= 3; n++ {
			out(api.KindStdout, fmt.Sprintf("task %d: start", n))
			if !sleep(2 * time.Second) {
				break
			}
			out(api.KindStdout, fmt.Sprintf("task %d: done", n))
		}
		out(api.KindStderr, "a line on stderr")
		exit(0, api.ReasonNone)
	}
}

// fakeTrace is the trace event of the fixture's concurrent program, as the
// real server sends it: main waits on the WaitGroup while three goroutines
// sleep together, from 1 ms to end.
func fakeTrace(code string, end float64) api.Event {
	at := func(s string) string {
		line, _, _ := find(code, s)
		return fmt.Sprintf("prog.go:%d", line)
	}
	sleepEnd := end - 3
	tr := &api.Trace{GOMAXPROCS: 2, Start: 500 * time.Microsecond, End: time.Duration(end * float64(time.Millisecond))}
	tr.Lanes = append(tr.Lanes, api.Lane{ID: 1, Name: "main", Intervals: []api.Interval{
		{Start: 0.5, End: 1, State: "running"},
		{Start: 1, End: sleepEnd + 0.5, State: "blocked", Reason: "waitgroup", At: at("wg.Wait()")},
		{Start: sleepEnd + 0.5, End: end, State: "running"},
	}})
	for i := range 3 {
		d := float64(i) * 0.05
		tr.Lanes = append(tr.Lanes, api.Lane{ID: int64(7 + i), Name: "main.main.func1", CreatedAt: at("go func"), Intervals: []api.Interval{
			{Start: 0.8, End: 1 + d, State: "runnable"},
			{Start: 1 + d, End: 1.05 + d, State: "running"},
			{Start: 1.05 + d, End: sleepEnd + d, State: "blocked", Reason: "sleep", At: at("time.Sleep")},
			{Start: sleepEnd + d, End: sleepEnd + 0.2 + d, State: "runnable"},
			{Start: sleepEnd + 0.2 + d, End: sleepEnd + 0.4 + d, State: "running"},
		}})
	}
	return api.Event{Kind: api.KindTrace, Trace: tr}
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

// stdinReq is a POST /api/stdin body.
type stdinReq struct {
	ID   string
	Data string
	EOF  bool
}

func (f *fakeAPI) stdinPost(w http.ResponseWriter, r *http.Request) {
	var req stdinReq
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		jsonError(w, http.StatusBadRequest, "bad JSON")
		return
	}
	f.mu.Lock()
	in := f.stdin[req.ID]
	f.mu.Unlock()
	if in == nil {
		jsonError(w, http.StatusNotFound, "no such run")
		return
	}
	in <- req
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeAPI) stop(w http.ResponseWriter, r *http.Request) {
	var req struct{ ID string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		jsonError(w, http.StatusBadRequest, "bad JSON")
		return
	}
	f.mu.Lock()
	cancel := f.running[req.ID]
	f.mu.Unlock()
	if cancel == nil {
		jsonError(w, http.StatusNotFound, "no such run")
		return
	}
	cancel()
	w.WriteHeader(http.StatusNoContent)
}

// fmt "formats" by replacing runs of 4 spaces with tabs, and reports an error
// for code containing "fake:syntax", as gofmt would.
func (f *fakeAPI) fmt(w http.ResponseWriter, r *http.Request) {
	body := r.FormValue("body")
	w.Header().Set("Content-Type", "application/json")
	if line, col, ok := find(body, "fake:syntax"); ok {
		json.NewEncoder(w).Encode(map[string]string{"Body": "", "Error": fmt.Sprintf("prog.go:%d:%d: expected declaration, found fake", line, col)})
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"Body": strings.ReplaceAll(body, "    ", "\t"), "Error": ""})
}

func (f *fakeAPI) healthz(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	n := len(f.running)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "running": n, "queued": 0})
}
