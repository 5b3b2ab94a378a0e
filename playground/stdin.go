package playground

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// maxStdin bounds what one run's standard input may take in all, bytes:
// the text sent with the run and every later /api/stdin together.
const maxStdin = 1 << 20

// runInput is a run's standard input while it may still grow: what the
// run request carried, then each POST /api/stdin, until EOF. Reads block
// until there is more or EOF; writes never block (the program may not be
// reading), they are bounded by maxStdin instead.
type runInput struct {
	mu    sync.Mutex
	more  *sync.Cond
	buf   []byte
	eof   bool
	total int
}

// newRunInput returns an input that starts with initial.
func newRunInput(initial string) *runInput {
	in := &runInput{buf: []byte(initial), total: len(initial)}
	in.more = sync.NewCond(&in.mu)
	return in
}

// Read implements io.Reader for the sandbox, which copies it to the
// program's stdin.
func (in *runInput) Read(p []byte) (int, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for len(in.buf) == 0 && !in.eof {
		in.more.Wait()
	}
	if len(in.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, in.buf)
	in.buf = in.buf[n:]
	return n, nil
}

// errInputClosed: stdin was closed (EOF sent, or the run ended).
var errInputClosed = errors.New("the run's standard input is closed")

// write adds data to the input.
func (in *runInput) write(data []byte) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.eof {
		return errInputClosed
	}
	if in.total+len(data) > maxStdin {
		return fmt.Errorf("standard input over %d KiB", maxStdin>>10)
	}
	in.buf = append(in.buf, data...)
	in.total += len(data)
	in.more.Broadcast()
	return nil
}

// close ends the input: once the program has read what is buffered, it
// reads EOF.
func (in *runInput) close() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.eof = true
	in.more.Broadcast()
}

// handleStdin is POST /api/stdin {"id": "...", "data": "...", "eof": bool}:
// data goes to the standard input of that run (one started with
// "stdinOpen": true), then, if eof, the input ends. 204; 404 for no such
// run, 409 when its input is not open (or no longer), 413 past maxStdin.
func (s *Server) handleStdin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID   string `json:"id"`
		Data string `json:"data"`
		EOF  bool   `json:"eof"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 2*maxStdin)).Decode(&req); err != nil || req.ID == "" {
		httpError(w, http.StatusBadRequest, `bad request: want {"id": "...", "data": "...", "eof": false}`)
		return
	}
	s.mu.Lock()
	run := s.runs[req.ID]
	var in *runInput
	if run != nil {
		in = run.input
	}
	s.mu.Unlock()
	switch {
	case run == nil:
		httpError(w, http.StatusNotFound, "no such run (it may have ended already)")
		return
	case in == nil:
		httpError(w, http.StatusConflict, `this run's standard input is not open (start it with "stdinOpen": true)`)
		return
	}
	if req.Data != "" {
		if err := in.write([]byte(req.Data)); errors.Is(err, errInputClosed) {
			httpError(w, http.StatusConflict, err.Error())
			return
		} else if err != nil {
			httpError(w, http.StatusRequestEntityTooLarge, err.Error())
			return
		}
	}
	if req.EOF {
		in.close()
	}
	w.WriteHeader(http.StatusNoContent)
}
