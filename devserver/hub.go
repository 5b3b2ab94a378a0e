package devserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Event is one Server-Sent Event sent to the open pages.
type Event struct {
	Name string // "hello", "reload" or "error"
	Data any    // marshalled as JSON on the data: line
}

// ReloadData is the data of a reload event: the URL paths that changed in
// the good build numbered Build.
type ReloadData struct {
	Paths []string `json:"paths"`
	Build int      `json:"build"`
}

// ErrorData is the data of an error event: every problem of the failed
// build, as "file:line: message".
type ErrorData struct {
	Errors []string `json:"errors"`
	Build  int      `json:"build"`
}

// HelloData greets a newly connected page: the server instance and its
// current good build, so that a page reconnecting after a restart or a
// missed event knows to reload; and when that build was made and what it
// changed, so that a page loaded just before it (whose stream connected
// just after) knows it is stale.
type HelloData struct {
	Server string   `json:"server"`
	Build  int      `json:"build"`
	Time   int64    `json:"time"`  // Unix milliseconds of the build; 0: none
	Paths  []string `json:"paths"` // what the build changed
}

// encode writes the event in the text/event-stream format.
func (e Event) encode() ([]byte, error) {
	data, err := json.Marshal(e.Data)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", e.Name, err)
	}
	return fmt.Appendf(nil, "event: %s\ndata: %s\n\n", e.Name, data), nil
}

// clientBuffer is how many events a slow page may lag behind before it is
// disconnected (it then reconnects and gets the current state).
const clientBuffer = 16

// hub fans events out to the connected event streams.
type hub struct {
	mu      sync.Mutex
	clients map[chan []byte]struct{}
	// state returns the events a new client gets first, under mu so
	// that no broadcast slips between the state and the subscription.
	state func() []Event
}

func newHub(state func() []Event) *hub {
	return &hub{clients: map[chan []byte]struct{}{}, state: state}
}

// publish sends the event that update returns to every client. update
// runs under h.mu, so that a client subscribing meanwhile gets either the
// state before it and the event, or the state after it: never neither.
func (h *hub) publish(update func() Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	msg, err := update().encode()
	if err != nil {
		return err
	}
	for c := range h.clients {
		select {
		case c <- msg:
		default:
			// Too slow: drop it; its stream ends and the page
			// reconnects to the current state.
			delete(h.clients, c)
			close(c)
		}
	}
	return nil
}

// subscribe registers a client and returns its channel and the initial
// events, taken atomically with the registration.
func (h *hub) subscribe() (chan []byte, [][]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var first [][]byte
	for _, e := range h.state() {
		msg, err := e.encode()
		if err != nil {
			return nil, nil, err
		}
		first = append(first, msg)
	}
	c := make(chan []byte, clientBuffer)
	h.clients[c] = struct{}{}
	return c, first, nil
}

func (h *hub) unsubscribe(c chan []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		close(c)
	}
}

// count is the number of connected clients.
func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// serveEvents streams events to one page until it leaves or done closes.
func (h *hub) serveEvents(w http.ResponseWriter, r *http.Request, heartbeat time.Duration, done <-chan struct{}) {
	rc := http.NewResponseController(w)
	c, first, err := h.subscribe()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer h.unsubscribe(c)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// retry: how soon EventSource reconnects after the server restarts.
	if _, err := fmt.Fprint(w, "retry: 500\n\n"); err != nil {
		return
	}
	for _, msg := range first {
		if _, err := w.Write(msg); err != nil {
			return
		}
	}
	if err := rc.Flush(); err != nil {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case msg, ok := <-c:
			if !ok {
				return
			}
			if _, err := w.Write(msg); err != nil {
				return
			}
		case <-tick.C:
			// A comment line keeps proxies and the browser from
			// timing the idle stream out.
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-done:
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
