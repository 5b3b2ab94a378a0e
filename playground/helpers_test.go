package playground

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"playdoc/internal/testenv"
	"playdoc/playground/api"
	"playdoc/playground/internal/scripted"
	"playdoc/sandbox"
)

// testModCache is a module cache shared by the tests' servers (filling
// one takes seconds; the go command makes sharing safe).
func testModCache() string { return testenv.ModCache() }

// fakeExec is the scripted executor as an Executor (internal/scripted:
// //fake: directives in the source script the build and the run).
type fakeExec struct{ *scripted.Exec }

func (f fakeExec) Start(ctx context.Context, spec sandbox.Spec) (Proc, error) {
	p, err := f.Exec.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// newFakeServer starts a Server over the scripted fake executor.
func newFakeServer(t *testing.T, mod func(*Config)) (*Server, *fakeExec, *httptest.Server) {
	t.Helper()
	fx := &fakeExec{&scripted.Exec{}}
	cfg := Config{
		DataDir:   t.TempDir(),
		ModCache:  testModCache(),
		ShareDB:   filepath.Join(t.TempDir(), "shares.db"),
		Executor:  fx,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		RateLimit: -1,
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s, fx, ts
}

// timedEvent is an event with the time the client received it.
type timedEvent struct {
	api.Event
	at time.Time
}

func postJSON(t testing.TB, ctx context.Context, url string, v any) *http.Response {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return resp
}

// startRun posts code to /api/run and checks the stream's headers.
func startRun(t testing.TB, ctx context.Context, base, code string) *http.Response {
	t.Helper()
	resp := postJSON(t, ctx, base+"/api/run", map[string]string{"code": code})
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("/api/run: %s: %s", resp.Status, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("Content-Type = %q", ct)
	}
	return resp
}

// readEvents reads events until the stream ends, calling each (if not
// nil) as they arrive.
func readEvents(t testing.TB, r io.ReadCloser, each func(timedEvent)) []timedEvent {
	t.Helper()
	defer r.Close()
	var evs []timedEvent
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		var e api.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("bad event %q: %v", sc.Text(), err)
		}
		te := timedEvent{e, time.Now()}
		evs = append(evs, te)
		if each != nil {
			each(te)
		}
	}
	// A client that hangs up on purpose ends its stream with a context
	// error; anything else (a line too long to read...) is a failure.
	if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("reading the event stream: %v (after %d events)", err, len(evs))
	}
	return evs
}

// runWith posts body (a /api/run request: code and options) and returns
// all events of the run, failing t unless it is answered 200 within
// timeout.
func runWith(t testing.TB, base string, body map[string]any, timeout time.Duration) []timedEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp := postJSON(t, ctx, base+"/api/run", body)
	if resp.StatusCode != 200 {
		t.Fatalf("/api/run: %s", resp.Status)
	}
	return readEvents(t, resp.Body, nil)
}

// runCode runs code and returns all its events.
func runCode(t testing.TB, base, code string) []timedEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return readEvents(t, startRun(t, ctx, base, code).Body, nil)
}

func kinds(evs []timedEvent) string {
	var ks []string
	for _, e := range evs {
		ks = append(ks, string(e.Kind))
	}
	return strings.Join(ks, ",")
}

func find(evs []timedEvent, kind api.Kind) (timedEvent, bool) {
	for _, e := range evs {
		if e.Kind == kind {
			return e, true
		}
	}
	return timedEvent{}, false
}

// output joins the data of the stdout (or stderr) events.
func output(evs []timedEvent, kind api.Kind) string {
	var sb strings.Builder
	for _, e := range evs {
		if e.Kind == kind {
			sb.WriteString(e.Data)
		}
	}
	return sb.String()
}

func getJSON(t testing.TB, url string, v any) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return resp
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// prog returns a fake program: a valid Go file with //fake: directives.
func prog(directives ...string) string {
	var sb strings.Builder
	sb.WriteString("package main\n\nfunc main() {}\n")
	for _, d := range directives {
		sb.WriteString("//fake:" + d + "\n")
	}
	return sb.String()
}

// uniq makes a source unique so that it is not in the binary cache.
func uniq(src string) string {
	return src + "\n// " + newID() + "\n"
}
