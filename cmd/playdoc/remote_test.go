package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestServeForwardsToRemotePlayground runs `playdoc serve --playground URL`
// against a backend that streams NDJSON: the page's calls reach the backend
// with their path and body, and each event reaches the reader while the
// backend is still running (the proxy does not buffer the stream).
func TestServeForwardsToRemotePlayground(t *testing.T) {
	release := make(chan struct{}) // closed once the reader has the first event
	type call struct{ method, path, body, forwardedFor string }
	calls := make(chan call, 10)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		calls <- call{r.Method, r.URL.Path, string(b), r.Header.Get("X-Forwarded-For")}
		switch r.URL.Path {
		case "/base/api/run":
			w.Header().Set("Content-Type", "application/x-ndjson")
			fmt.Fprintln(w, `{"kind":"accepted","id":"r1"}`)
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
			fmt.Fprintln(w, `{"kind":"exit","code":0}`)
		case "/base/healthz":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintln(w, `{"ok":true,"ready":true}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(backend.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release) // let the backend's handler end so Close returns
		}
	})

	base := startServe(t, "--playground", backend.URL+"/base").base

	type firstEvent struct {
		res  *http.Response
		line string
		err  error
	}
	first := make(chan firstEvent, 1)
	var events *bufio.Reader
	go func() {
		res, err := http.Post(base+"/api/run", "application/json", strings.NewReader(`{"code":"package main"}`))
		if err != nil {
			first <- firstEvent{err: err}
			return
		}
		events = bufio.NewReader(res.Body)
		line, err := events.ReadString('\n')
		first <- firstEvent{res, line, err}
	}()
	// The backend holds the rest of the stream until we have the first
	// event, so a proxy that buffered would deliver neither the headers nor
	// the event.
	var fe firstEvent
	select {
	case fe = <-first:
	case <-time.After(30 * time.Second):
		t.Fatal("the first event did not arrive while the backend was still streaming: the proxy buffers")
	}
	if fe.err != nil {
		t.Fatal(fe.err)
	}
	defer fe.res.Body.Close()
	if ct := fe.res.Header.Get("Content-Type"); fe.res.StatusCode != http.StatusOK || ct != "application/x-ndjson" {
		t.Fatalf("POST /api/run through serve: %s, Content-Type %q", fe.res.Status, ct)
	}
	if strings.TrimSpace(fe.line) != `{"kind":"accepted","id":"r1"}` {
		t.Errorf("first event %q", fe.line)
	}
	close(release)
	rest, err := io.ReadAll(events)
	if err != nil || strings.TrimSpace(string(rest)) != `{"kind":"exit","code":0}` {
		t.Errorf("rest of the stream %q, %v", rest, err)
	}
	c := <-calls
	if c.method != http.MethodPost || c.path != "/base/api/run" || c.body != `{"code":"package main"}` || c.forwardedFor == "" {
		t.Errorf("backend got %+v, want the POST of /api/run with its body, under /base, with X-Forwarded-For", c)
	}

	res, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ OK, Ready bool }
	err = json.NewDecoder(res.Body).Decode(&h)
	res.Body.Close()
	if err != nil || !h.OK || !h.Ready {
		t.Errorf("GET /healthz through serve: %v %+v", err, h)
	}
	// The site itself is still served by serve, not the backend.
	if body := getOK(t, base+"/asyncio/gather/", 60*time.Second); !strings.Contains(body, "/_playdoc/reload.js") {
		t.Errorf("the site is not served with live reload alongside the proxy")
	}
}

// TestServeRemotePlaygroundDown: when the backend cannot be reached, the
// page's run gets 502 with a JSON error naming the backend, which the page
// shows next to the recorded output.
func TestServeRemotePlaygroundDown(t *testing.T) {
	backend := httptest.NewServer(http.NotFoundHandler())
	url := backend.URL
	backend.Close() // nothing listens there any more
	base := startServe(t, "--playground", url).base
	res, err := http.Post(base+"/api/run", "application/json", strings.NewReader(`{"code":"package main"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ Error string }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusBadGateway || !strings.Contains(body.Error, "cannot be reached") || !strings.Contains(body.Error, url) {
		t.Errorf("run with the backend down: %s %q, want 502 naming %s", res.Status, body.Error, url)
	}
}

// TestServePlaygroundFlags: --playground wants an absolute http(s) URL and
// excludes --no-playground.
func TestServePlaygroundFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--playground", "localhost:8081"},
		{"--playground", "ftp://example.com"},
		{"--playground", "http://127.0.0.1:1", "--no-playground"},
	} {
		var stderr strings.Builder
		code := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), io.Discard, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), "playground") {
			t.Errorf("serve %v: exit %d, stderr %q; want a failure naming the flag", args, code, stderr.String())
		}
	}
}

// TestUnavailablePlayground: where the sandbox cannot run (not Linux),
// every playground call gets 501 and the reason, plus how to use a remote
// playground instead.
func TestUnavailablePlayground(t *testing.T) {
	h := unavailablePlayground(fmt.Errorf("sandbox: the playground's sandbox needs Linux (this is darwin/arm64): %w", errors.ErrUnsupported))
	for _, p := range []string{"/api/run", "/api/fmt", "/compile", "/healthz"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, p, strings.NewReader("{}")))
		var body struct{ Error string }
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != http.StatusNotImplemented || !strings.Contains(body.Error, "needs Linux") || !strings.Contains(body.Error, "--playground URL") {
			t.Errorf("%s: %d %q", p, rec.Code, rec.Body)
		}
	}
}
