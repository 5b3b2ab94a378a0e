package playground

import (
	"context"
	"strings"
	"testing"
	"time"

	"playdoc/playground/api"
)

// A program's binary (binary.go): one shared compile per source, kept in
// the cache unless the compile was cut short.

func TestSingleFlight(t *testing.T) {
	_, fx, ts := newFakeServer(t, nil)
	code := prog("compile-sleep 300ms", "out stdout 0s x")
	builds := fx.Builds.Load()
	done := make(chan []timedEvent)
	for range 3 {
		go func() {
			ctx := context.Background()
			resp := postJSON(t, ctx, ts.URL+"/api/run", map[string]string{"code": code})
			done <- readEvents(t, resp.Body, nil)
		}()
	}
	for range 3 {
		if evs := <-done; output(evs, api.KindStdout) != "x\n" {
			t.Errorf("a run got %s", kinds(evs))
		}
	}
	if n := fx.Builds.Load() - builds; n != 1 {
		t.Errorf("%d builds for 3 concurrent identical runs, want 1", n)
	}
}

// TestSingleFlightOutlivesItsLeader: the client that started a shared
// compile leaves; the compile goes on for the one still waiting, which
// gets the binary of that same single compile.
func TestSingleFlightOutlivesItsLeader(t *testing.T) {
	_, fx, ts := newFakeServer(t, nil)
	code := prog("compile-sleep 600ms", "out stdout 0s x")
	builds := fx.Builds.Load()
	leader, leave := context.WithCancel(context.Background())
	resp := startRun(t, leader, ts.URL, code)
	readEvents(t, resp.Body, func(e timedEvent) {
		if e.Kind == api.KindCompileStart {
			eventually(t, 5*time.Second, "the compile to start", func() bool { return fx.Builds.Load() > builds })
			leave()
		}
	})
	evs := runCode(t, ts.URL, code)
	if output(evs, api.KindStdout) != "x\n" {
		t.Fatalf("the follower got %s", kinds(evs))
	}
	if n := fx.Builds.Load() - builds; n != 1 {
		t.Errorf("%d builds, want the leader's one to serve the follower", n)
	}
}

func TestCompileTimeoutIsNotCached(t *testing.T) {
	_, fx, ts := newFakeServer(t, func(c *Config) { c.CompileTimeout = 200 * time.Millisecond })
	code := prog("compile-hang")
	builds := fx.Builds.Load()
	for range 2 {
		evs := runCode(t, ts.URL, code)
		ce, ok := find(evs, api.KindCompileError)
		if !ok || !strings.Contains(ce.Message, "timed out") {
			t.Fatalf("events %s %+v", kinds(evs), ce.Event)
		}
	}
	if n := fx.Builds.Load() - builds; n != 2 {
		t.Errorf("%d builds, want 2: a timeout must not be cached", n)
	}
}
