package playground

import (
	"encoding/json"
	"net/http"
	"sync"

	"playdoc/playground/api"
)

// eventStream writes a run's NDJSON events (one JSON object and "\n" per
// api.Event) to an HTTP response and flushes them to the client from a
// goroutine of its own. An event is on its way as soon as that goroutine
// runs; events emitted before it does (a cached build's accepted,
// compile-start and compile-end come microseconds apart) leave in one
// write. On an idle server that goroutine runs at once and nothing
// changes; in a burst, where every write to the socket and every wake-up
// of the reader costs CPU the runs need, fewer of both happen.
type eventStream struct {
	mu     sync.Mutex // guards the response and the fields below
	w      http.ResponseWriter
	rc     *http.ResponseController
	dirty  bool  // written since the last flush
	err    error // the first write or flush error: the client is gone
	gone   func()
	kick   chan struct{} // capacity 1: something to flush
	stop   chan struct{}
	exited chan struct{}
}

// newEventStream starts the flushing goroutine; close ends it. gone is
// called once, from either goroutine, when a write or flush fails.
func newEventStream(w http.ResponseWriter, gone func()) *eventStream {
	es := &eventStream{
		w: w, rc: http.NewResponseController(w), gone: gone,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), exited: make(chan struct{}),
	}
	go es.flusher()
	return es
}

// emit writes e; once the client is gone it does nothing.
func (es *eventStream) emit(e api.Event) {
	b, err := json.Marshal(e)
	if err != nil {
		es.fail(err)
		return
	}
	es.mu.Lock()
	if es.err == nil {
		if _, err := es.w.Write(append(b, '\n')); err != nil {
			es.mu.Unlock()
			es.fail(err)
			return
		}
		es.dirty = true
	}
	es.mu.Unlock()
	select {
	case es.kick <- struct{}{}:
	default: // a flush is already due
	}
}

func (es *eventStream) flusher() {
	defer close(es.exited)
	for {
		select {
		case <-es.kick:
			es.flush()
		case <-es.stop:
			return
		}
	}
}

// flush sends what was written since the last flush.
func (es *eventStream) flush() {
	es.mu.Lock()
	if !es.dirty || es.err != nil {
		es.mu.Unlock()
		return
	}
	es.dirty = false
	err := es.rc.Flush()
	es.mu.Unlock()
	if err != nil {
		es.fail(err)
	}
}

// fail records the first error and calls gone for it.
func (es *eventStream) fail(err error) {
	es.mu.Lock()
	first := es.err == nil
	if first {
		es.err = err
	}
	es.mu.Unlock()
	if first {
		es.gone()
	}
}

// close stops the flushing goroutine and flushes what is left, so the
// last event has left when the handler returns.
func (es *eventStream) close() {
	close(es.stop)
	<-es.exited
	es.flush()
}
