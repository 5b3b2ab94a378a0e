package playground

import (
	"context"
	"strings"
	"testing"
	"time"

	"playdoc/playground/api"
	"playdoc/sandbox"
)

// With every start slot taken for longer than the run timeout, a run ends
// with an error event that says the playground is too busy, not with a
// "killed" exit; a client that goes away while waiting gets the killed
// exit as before.
func TestStartWaitOnAFullMachine(t *testing.T) {
	s, _, _ := newFakeServer(t, func(c *Config) { c.RunTimeout = 300 * time.Millisecond })
	for range cap(s.starts) {
		s.starts <- struct{}{}
	}
	defer func() {
		for range cap(s.starts) {
			<-s.starts
		}
	}()
	t0 := time.Now()
	proc, _, ev := s.startProc(context.Background(), sandbox.Spec{}, nil)
	if proc != nil || ev.Kind != api.KindError || !strings.Contains(ev.Message, "too busy") {
		t.Fatalf("full machine: proc %v, event %+v", proc, ev)
	}
	if d := time.Since(t0); d < 300*time.Millisecond {
		t.Errorf("gave up after %v, before the run timeout", d)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	proc, _, ev = s.startProc(ctx, sandbox.Spec{}, nil)
	if proc != nil || ev.Kind != api.KindExit || ev.Reason != api.ReasonKilled {
		t.Fatalf("client gone: proc %v, event %+v", proc, ev)
	}
}
