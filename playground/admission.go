package playground

import (
	"context"
	"errors"
	"strconv"
	"time"

	"playdoc/sandbox"
)

// errBusy and errClosing are admission failures (503).
var (
	errBusy    = errors.New("the playground is busy: too many programs queued, try again shortly")
	errClosing = errors.New("the playground is shutting down")
)

// ticket is an admitted run's place in the queue.
type ticket struct {
	s     *Server
	state int // 0 queued, 1 running, 2 done
}

// admit reserves a place for one run (a runner or a queue slot), or
// fails at once when both are full: callers answer 503.
func (s *Server) admit() (*ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, errClosing
	}
	if s.queued+s.running >= s.cfg.Runners+s.cfg.Queue {
		return nil, errBusy
	}
	s.queued++
	s.m.queueDepth.Set(float64(s.queued))
	s.active.Add(1)
	return &ticket{s: s}, nil
}

// wait blocks until a runner is free and the runs already going leave
// room (memory and processes under 90% of the sandbox's totals). Holding
// the runner while waiting for room keeps the queue's order.
func (t *ticket) wait(ctx context.Context) error {
	s := t.s
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := s.waitForRoom(ctx); err != nil {
		<-s.slots
		return err
	}
	s.mu.Lock()
	s.queued--
	s.running++
	s.m.queueDepth.Set(float64(s.queued))
	s.m.running.Set(float64(s.running))
	s.mu.Unlock()
	t.state = 1
	return nil
}

// usager is an Executor that can tell what all its runs use (the real
// sandbox; fakes cannot, and then only the runner count admits).
type usager interface{ Usage() sandbox.Usage }

// waitForRoom polls (every 20 ms: a run ending frees memory in the kernel,
// not through us) until the runs going leave room for one more.
func (s *Server) waitForRoom(ctx context.Context) error {
	u, ok := s.exec.(usager)
	if !ok {
		return nil
	}
	logged := false
	for {
		usage := u.Usage()
		if usage.Room() {
			return nil
		}
		if !logged {
			s.log.Info("playground: a run waits for room", "usage", usage.String())
			logged = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// done gives the runner (or queue slot) back.
func (t *ticket) done() {
	s := t.s
	s.mu.Lock()
	switch t.state {
	case 0:
		s.queued--
	case 1:
		s.running--
		<-s.slots
	default:
		s.mu.Unlock()
		return
	}
	t.state = 2
	s.m.queueDepth.Set(float64(s.queued))
	s.m.running.Set(float64(s.running))
	s.mu.Unlock()
	s.active.Done()
}

// counts returns how many runs are running and queued.
func (s *Server) counts() (running, queued int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running, s.queued
}

// retryAfter is the Retry-After hint when busy, in seconds.
func (s *Server) retryAfter() string {
	return strconv.Itoa(max(1, int(s.cfg.RunTimeout.Seconds()/2)))
}
