package playground

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"playdoc/playground/api"
)

// A run's end from outside: Stop, the client going away, the server's
// shutdown (over the scripted fake sandbox).

func TestStopKillsTheRun(t *testing.T) {
	s, fx, ts := newFakeServer(t, nil)
	ctx := context.Background()
	resp := startRun(t, ctx, ts.URL, prog("out stdout 0s started", "sleep 30s", "out stdout 0s never"))
	var id string
	start := time.Now()
	evs := readEvents(t, resp.Body, func(e timedEvent) {
		switch e.Kind {
		case api.KindAccepted:
			id = e.ID
		case api.KindStdout:
			r := postJSON(t, ctx, ts.URL+"/api/stop", map[string]string{"id": id})
			r.Body.Close()
			if r.StatusCode != 204 {
				t.Errorf("stop: %s", r.Status)
			}
		}
	})
	if time.Since(start) > 5*time.Second {
		t.Errorf("stop took %v", time.Since(start))
	}
	exit, ok := find(evs, api.KindExit)
	if !ok || exit.Reason != api.ReasonKilled || strings.Contains(output(evs, api.KindStdout), "never") {
		t.Fatalf("events: %s, exit %+v", kinds(evs), exit.Event)
	}
	if !strings.Contains(exit.Message, "stopped by the client") {
		t.Errorf("exit message = %q", exit.Message)
	}
	eventually(t, 2*time.Second, "nothing running", func() bool { return fx.Running.Load() == 0 })
	if r, _ := s.counts(); r != 0 {
		t.Errorf("running = %d", r)
	}
	r := postJSON(t, ctx, ts.URL+"/api/stop", map[string]string{"id": id})
	r.Body.Close()
	if r.StatusCode != 404 {
		t.Errorf("stop of an ended run: %s, want 404", r.Status)
	}
	r = postJSON(t, ctx, ts.URL+"/api/stop", map[string]string{})
	r.Body.Close()
	if r.StatusCode != 400 {
		t.Errorf("stop without id: %s, want 400", r.Status)
	}
}

func TestClientDisconnectKillsAndCleansUp(t *testing.T) {
	s, fx, ts := newFakeServer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	resp := startRun(t, ctx, ts.URL, prog("out stdout 0s started", "sleep 30s"))
	readEvents(t, resp.Body, func(e timedEvent) {
		if e.Kind == api.KindStdout {
			cancel()
		}
	})
	eventually(t, 3*time.Second, "the program to be killed", func() bool { return fx.Running.Load() == 0 })
	eventually(t, 3*time.Second, "healthz running=0", func() bool {
		var h healthResponse
		getJSON(t, ts.URL+"/healthz", &h)
		return h.Running == 0 && h.Queued == 0
	})
	if n := s.builder.Workspaces(); n != 0 {
		t.Errorf("%d workspaces left", n)
	}
	ents, err := os.ReadDir(s.builder.workRoot)
	if err != nil || len(ents) != 0 {
		t.Errorf("work dir holds %d entries (%v)", len(ents), err)
	}
}

func TestShutdownKillsLeftoverRuns(t *testing.T) {
	s, fx, ts := newFakeServer(t, nil)
	ctx := context.Background()
	resp := startRun(t, ctx, ts.URL, prog("out stdout 0s started", "sleep 30s"))
	got := make(chan []timedEvent)
	go func() { got <- readEvents(t, resp.Body, nil) }()
	eventually(t, 3*time.Second, "the program to run", func() bool { return fx.Running.Load() == 1 })
	sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Shutdown(sctx)
	if err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("Shutdown = %v after %v, want the context's error soon after 200ms", err, time.Since(start))
	}
	evs := <-got
	if exit, _ := find(evs, api.KindExit); exit.Reason != api.ReasonKilled {
		t.Errorf("exit = %+v", exit.Event)
	}
	if fx.Running.Load() != 0 {
		t.Error("a program survived Shutdown")
	}
	r := postJSON(t, ctx, ts.URL+"/api/run", map[string]string{"code": prog()})
	r.Body.Close()
	if r.StatusCode != 503 {
		t.Errorf("run after shutdown: %s", r.Status)
	}
}

func TestShutdownLetsRunsFinish(t *testing.T) {
	s, _, ts := newFakeServer(t, nil)
	ctx := context.Background()
	resp := startRun(t, ctx, ts.URL, prog("out stdout 0s a", "out stdout 300ms b"))
	got := make(chan []timedEvent)
	go func() { got <- readEvents(t, resp.Body, nil) }()
	eventually(t, 3*time.Second, "a running run", func() bool { r, _ := s.counts(); return r == 1 })
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	evs := <-got
	if exit, _ := find(evs, api.KindExit); exit.Reason != "" || output(evs, api.KindStdout) != "a\nb\n" {
		t.Errorf("run cut by a graceful shutdown: %s", kinds(evs))
	}
}
