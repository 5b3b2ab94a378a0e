package playground

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"playdoc/playground/api"
)

// traceRun is the trace side of a run asked for with "trace": true: the
// user's code, to tell its frames, or why the run is not traced.
type traceRun struct {
	user userCode
	why  string // non-empty: not traced, the trace event's message
}

// traceCapture reads a traced program's descriptor 3 (the sandbox's
// ExtraOutput): the write end goes to the sandbox, the read end is
// drained here, keeping at most traceReadLimit bytes and discarding the
// rest, so that the program never blocks on it.
type traceCapture struct {
	r, w *os.File
	buf  bytes.Buffer
	over bool          // more than traceReadLimit was written
	err  error         // a read error other than EOF
	done chan struct{} // closed at EOF (the program's tree is gone)
}

// newTraceCapture opens the pipe and starts draining it.
func newTraceCapture() (*traceCapture, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("trace pipe: %w", err)
	}
	c := &traceCapture{r: r, w: w, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		_, err := io.Copy(&c.buf, io.LimitReader(r, traceReadLimit))
		if err == nil {
			n, e := io.Copy(io.Discard, r)
			c.over, err = n > 0, e
		}
		c.err = err
	}()
	return c, nil
}

// captureGrace is how long the trace's reader may go on after the
// program's tree is gone (EOF is then immediate; this bounds a bug).
const captureGrace = 5 * time.Second

// event waits for the trace's end and summarises it as the trace event.
// started is the program's exec, the output's time origin.
func (c *traceCapture) event(tr *traceRun, started time.Time) api.Event {
	_ = c.r.SetReadDeadline(time.Now().Add(captureGrace))
	<-c.done
	c.r.Close()
	ev := api.Event{Kind: api.KindTrace}
	if c.err != nil && !errors.Is(c.err, os.ErrDeadlineExceeded) {
		ev.Message = "the trace could not be read: " + c.err.Error()
		return ev
	}
	t, truncated, err := summarizeTrace(bytes.NewReader(c.buf.Bytes()), started, tr.user)
	if err != nil {
		ev.Message = "no trace: " + err.Error() + " (a program killed, or ended by a panic outside main, log.Fatal or a fatal error, loses its trace)"
		return ev
	}
	ev.Trace = t
	var notes []string
	if truncated != "" {
		notes = append(notes, truncated)
	}
	if c.over {
		notes = append(notes, fmt.Sprintf("the trace is cut at %d MiB", traceMaxBytes>>20))
	}
	if m := cappedMessage(t); m != "" {
		notes = append(notes, m)
	}
	for i, n := range notes {
		if i > 0 {
			ev.Message += "; "
		}
		ev.Message += n
	}
	return ev
}
