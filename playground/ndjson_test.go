package playground

import (
	"bytes"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"playdoc/playground/api"
)

// flushCounter is an http.ResponseWriter that records what was written
// and counts the flushes; safe for the stream's two goroutines and the
// test's reads.
type flushCounter struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	flushed  string // buf at the latest flush
	flushes  atomic.Int32
	writeErr error
}

func (f *flushCounter) Header() http.Header { return http.Header{} }
func (f *flushCounter) WriteHeader(int)     {}
func (f *flushCounter) Write(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.writeErr != nil {
		return 0, f.writeErr
	}
	return f.buf.Write(b)
}
func (f *flushCounter) Flush() {
	f.mu.Lock()
	f.flushed = f.buf.String()
	f.mu.Unlock()
	f.flushes.Add(1)
}
func (f *flushCounter) sent() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.flushed
}

// Events emitted back to back, before the flushing goroutine gets a turn
// (one P: it runs only when the emitter blocks), leave in one flush, in
// order, and close flushes them before it returns.
func TestEventStreamCoalescesBackToBack(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	w := &flushCounter{}
	es := newEventStream(w, func() { t.Error("client reported gone") })
	es.emit(api.Event{Kind: api.KindAccepted, ID: "r1"})
	es.emit(api.Event{Kind: api.KindCompileStart})
	es.emit(api.Event{Kind: api.KindCompileEnd, Cached: true})
	es.close()
	lines := strings.Split(strings.TrimSuffix(w.sent(), "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"r1"`) || !strings.Contains(lines[2], `"cached":true`) {
		t.Fatalf("sent %q", w.sent())
	}
	if n := w.flushes.Load(); n != 1 {
		t.Errorf("%d flushes for three events emitted back to back, want 1", n)
	}
}

// An event is flushed without waiting for the next one or for close.
func TestEventStreamFlushesEachEventPromptly(t *testing.T) {
	w := &flushCounter{}
	es := newEventStream(w, func() { t.Error("client reported gone") })
	defer es.close()
	for i, kind := range []api.Kind{api.KindAccepted, api.KindStdout} {
		es.emit(api.Event{Kind: kind, Data: "x"})
		deadline := time.Now().Add(5 * time.Second)
		for strings.Count(w.sent(), "\n") < i+1 {
			if time.Now().After(deadline) {
				t.Fatalf("event %d not flushed after 5 s; sent %q", i, w.sent())
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// A failed write reports the client gone once; later events are dropped.
func TestEventStreamClientGone(t *testing.T) {
	w := &flushCounter{writeErr: errors.New("broken pipe")}
	var gone atomic.Int32
	es := newEventStream(w, func() { gone.Add(1) })
	for range 3 {
		es.emit(api.Event{Kind: api.KindStdout, Data: "x"})
	}
	es.close()
	if n := gone.Load(); n != 1 {
		t.Errorf("gone called %d times, want 1", n)
	}
	if w.flushes.Load() != 0 || w.sent() != "" {
		t.Errorf("flushed %d times after a failed write: %q", w.flushes.Load(), w.sent())
	}
}
