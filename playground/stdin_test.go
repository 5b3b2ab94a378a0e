package playground

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"playdoc/playground/api"
)

// runWithStdin starts code with the given run request fields and answers
// each stdout event with feed (its return: the /api/stdin body, or nil).
func runWithStdin(t *testing.T, base, code string, fields map[string]any, feed func(id, out string) map[string]any) []timedEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	body := map[string]any{"code": code}
	for k, v := range fields {
		body[k] = v
	}
	resp := postJSON(t, ctx, base+"/api/run", body)
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("/api/run: %s: %s", resp.Status, b)
	}
	var id, out string
	return readEvents(t, resp.Body, func(e timedEvent) {
		switch e.Kind {
		case api.KindAccepted:
			id = e.ID
		case api.KindStdout:
			out += e.Data
			if req := feed(id, out); req != nil {
				r := postJSON(t, ctx, base+"/api/stdin", req)
				r.Body.Close()
				if r.StatusCode != http.StatusNoContent {
					t.Errorf("/api/stdin %v: %s", req, r.Status)
				}
			}
		}
	})
}

// TestStdinBeforeAndWhileRunning: what is typed before Run reaches the
// program first, each line sent while it runs follows, and EOF ends it.
func TestStdinBeforeAndWhileRunning(t *testing.T) {
	_, _, ts := newFakeServer(t, nil)
	evs := runWithStdin(t, ts.URL, prog("cat", "exit 0"), map[string]any{"stdin": "typed before\n", "stdinOpen": true},
		func(id, out string) map[string]any {
			switch out {
			case "typed before\n":
				return map[string]any{"id": id, "data": "line two\n"}
			case "typed before\nline two\n":
				return map[string]any{"id": id, "data": "last", "eof": true}
			}
			return nil
		})
	if got := output(evs, api.KindStdout); got != "typed before\nline two\nlast" {
		t.Errorf("stdout %q", got)
	}
	if exit, ok := find(evs, api.KindExit); !ok || exit.Code != 0 {
		t.Errorf("events %s", kinds(evs))
	}

	// Without stdinOpen the input is what was sent, then EOF at once.
	evs = runWithStdin(t, ts.URL, prog("cat", "exit 0"), map[string]any{"stdin": "only this\n"}, func(string, string) map[string]any { return nil })
	if got := output(evs, api.KindStdout); got != "only this\n" {
		t.Errorf("closed stdin: stdout %q", got)
	}
}

// TestStdinRefusals: /api/stdin for no run, for a run whose input is not
// open, and bad requests.
func TestStdinRefusals(t *testing.T) {
	_, _, ts := newFakeServer(t, nil)
	ctx := context.Background()
	for body, want := range map[string]int{
		`{"id": "nope", "data": "x"}`: http.StatusNotFound,
		`{"data": "x"}`:               http.StatusBadRequest,
		`not json`:                    http.StatusBadRequest,
	} {
		req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/api/stdin", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %s, want %d", body, resp.Status, want)
		}
	}
	// A run without stdinOpen: 409.
	status := 0
	runWithStdin(t, ts.URL, prog(`raw stdout 0s "ready\n"`, "sleep 300ms"), nil, func(id, out string) map[string]any {
		resp := postJSON(t, ctx, ts.URL+"/api/stdin", map[string]any{"id": id, "data": "x"})
		resp.Body.Close()
		status = resp.StatusCode
		return nil
	})
	if status != http.StatusConflict {
		t.Errorf("stdin of a run without stdinOpen: %d, want 409", status)
	}
}
