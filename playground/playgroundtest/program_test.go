package playgroundtest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"playdoc/playground"
	"playdoc/playground/api"
	"playdoc/playground/playgroundtest"
	"playdoc/sandbox"
)

// run posts a /api/run request and returns its events.
func run(t *testing.T, base string, req map[string]any) []api.Event {
	t.Helper()
	b, _ := json.Marshal(req)
	resp, err := http.Post(base+"/api/run", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/api/run: %s", resp.Status)
	}
	var evs []api.Event
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var ev api.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// last is the last event of kind k, and whether there is one.
func last(evs []api.Event, k api.Kind) (api.Event, bool) {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == k {
			return evs[i], true
		}
	}
	return api.Event{}, false
}

// TestProgram: a Program plays the builds and runs, and the server makes
// the events from what it writes: compile errors from the build's stderr,
// output from its writes (stdin read), the time limit from its sleep, the
// trace event from its Extra.
func TestProgram(t *testing.T) {
	srv := playgroundtest.NewServer(t, playground.Config{RunTimeout: time.Second})
	srv.Exec.SetProgram(func(r *playgroundtest.Run) sandbox.Result {
		switch {
		case r.Build && strings.Contains(r.Source, "undefinedThing"):
			io.WriteString(r.Stderr, "# play\n./prog.go:3:15: undefined: undefinedThing\n")
			return sandbox.Result{ExitCode: 1}
		case r.Build:
			return sandbox.Result{}
		case strings.Contains(r.Source, "sleepy"):
			r.Sleep(time.Hour)
			return sandbox.Result{}
		case r.Extra != nil:
			io.WriteString(r.Extra, "not a trace")
			return sandbox.Result{}
		}
		in, _ := io.ReadAll(r.Stdin)
		io.WriteString(r.Stdout, "got: "+string(in)+"\n")
		return sandbox.Result{ExitCode: 3}
	})

	evs := run(t, srv.URL, map[string]any{"code": "package main\n\nfunc main() { undefinedThing() }\n"})
	ce, ok := last(evs, api.KindCompileError)
	if !ok || len(ce.Errors) != 1 || ce.Errors[0].Line != 3 || ce.Errors[0].Col != 15 || ce.Errors[0].Msg != "undefined: undefinedThing" {
		t.Errorf("compile error %+v (found %v)", ce, ok)
	}

	evs = run(t, srv.URL, map[string]any{"code": "package main\n\nfunc main() {}\n", "stdin": "hi"})
	out, _ := last(evs, api.KindStdout)
	exit, _ := last(evs, api.KindExit)
	if out.Data != "got: hi\n" || exit.Code != 3 || exit.Message != "exit status 3" {
		t.Errorf("stdout %q, exit %+v", out.Data, exit)
	}

	evs = run(t, srv.URL, map[string]any{"code": "package main\n\n// sleepy\nfunc main() {}\n"})
	exit, _ = last(evs, api.KindExit)
	if exit.Reason != api.ReasonTimeout || exit.Code != -1 || exit.Message != "the program ran longer than 1s and was killed" {
		t.Errorf("exit %+v, want the time limit's", exit)
	}

	evs = run(t, srv.URL, map[string]any{"code": "package main\n\nfunc main() {}\n", "trace": true})
	tr, ok := last(evs, api.KindTrace)
	if !ok || tr.Trace != nil || !strings.HasPrefix(tr.Message, "no trace: reading the trace") {
		t.Errorf("trace event %+v (found %v), want the server's verdict on what Extra got", tr, ok)
	}
}
