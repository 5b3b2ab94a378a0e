package sandbox

import (
	"log/slog"
	"sync"
	"time"
)

// warmPolicy sizes the pool of pre-started inits to the arrival rate: the
// pool aims at the most inits taken in any one Bucket of the last Window
// buckets, at least Min and at most Max. A burst of N runs within a
// bucket so makes the pool grow toward N, refilled in the background, and
// once Window buckets pass without such a burst it shrinks back to Min.
type warmPolicy struct {
	Min, Max int
	Bucket   time.Duration
	Window   int // buckets
}

// defaultWarmPolicy: a second per bucket, a minute remembered.
func defaultWarmPolicy(min, max int) warmPolicy {
	return warmPolicy{Min: min, Max: max, Bucket: time.Second, Window: 60}
}

// demand counts the takes per bucket over the policy's window.
type demand struct {
	pol    warmPolicy
	epoch  time.Time
	cur    int64 // the current bucket's number since epoch
	counts []int // ring of Window buckets
}

func newDemand(pol warmPolicy, now time.Time) *demand {
	return &demand{pol: pol, epoch: now, counts: make([]int, pol.Window)}
}

// advance moves to now's bucket, clearing the buckets passed.
func (d *demand) advance(now time.Time) {
	b := int64(now.Sub(d.epoch) / d.pol.Bucket)
	if b-d.cur >= int64(len(d.counts)) {
		clear(d.counts)
		d.cur = b
		return
	}
	for d.cur < b {
		d.cur++
		d.counts[d.cur%int64(len(d.counts))] = 0
	}
}

// took records one take at now.
func (d *demand) took(now time.Time) {
	d.advance(now)
	d.counts[d.cur%int64(len(d.counts))]++
}

// target is how many inits the pool should hold at now.
func (d *demand) target(now time.Time) int {
	d.advance(now)
	n := 0
	for _, c := range d.counts {
		n = max(n, c)
	}
	return min(max(n, d.pol.Min), d.pol.Max)
}

// warmPool keeps items (pre-started inits) ready, as many as its policy
// says, refilled by a keeper goroutine one at a time. take never waits for
// the keeper: with nothing ready the caller starts its own.
type warmPool[T any] struct {
	pol     warmPolicy
	spawn   func() (T, error)
	discard func(T)      // ends an item that will not be used
	alive   func(T) bool // whether a ready item is still usable
	room    func() bool  // whether resources allow more than Min
	log     *slog.Logger

	mu     sync.Mutex
	ready  []T // oldest first
	demand *demand
	closed bool

	wake       chan struct{} // a take happened (capacity 1)
	done       chan struct{} // closed by close
	keeperDone chan struct{}
}

// newWarmPool starts the keeper; close stops it.
func newWarmPool[T any](pol warmPolicy, spawn func() (T, error), discard func(T), alive func(T) bool, room func() bool, log *slog.Logger) *warmPool[T] {
	p := &warmPool[T]{
		pol: pol, spawn: spawn, discard: discard, alive: alive, room: room, log: log,
		demand:     newDemand(pol, time.Now()),
		wake:       make(chan struct{}, 1),
		done:       make(chan struct{}),
		keeperDone: make(chan struct{}),
	}
	go p.keep()
	return p
}

// take returns a ready item, the oldest (a shrink ends the newest), or
// false when none is ready. The newest may still be starting (its Go
// runtime, at the lowest CPU weight), the oldest is waiting for its
// config. Dead items found on the way are discarded.
func (p *warmPool[T]) take() (T, bool) {
	var dead []T
	var it T
	ok := false
	p.mu.Lock()
	p.demand.took(time.Now())
	for len(p.ready) > 0 && !ok {
		it = p.ready[0]
		p.ready[0] = *new(T) // no reference kept by the slice's array
		p.ready = p.ready[1:]
		if ok = p.alive(it); !ok {
			dead = append(dead, it)
		}
	}
	p.mu.Unlock()
	for _, d := range dead {
		p.log.Warn("sandbox: a pre-started init died while waiting")
		p.discard(d)
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return it, ok
}

// put adds a started item (the keeper's, or a test's) to the ready ones;
// after close it discards it and reports false.
func (p *warmPool[T]) put(it T) bool {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.discard(it)
		return false
	}
	p.ready = append(p.ready, it)
	p.mu.Unlock()
	return true
}

// flush discards every ready item (the keeper starts new ones).
func (p *warmPool[T]) flush() {
	p.discardReady()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// size is how many items are ready.
func (p *warmPool[T]) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ready)
}

// keep fills the pool up to the policy's target, ends the items above it,
// and otherwise sleeps until a take, or until the next bucket when the
// target may fall. An idle pool at Min has no timer at all.
func (p *warmPool[T]) keep() {
	defer close(p.keeperDone)
	backoff := 100 * time.Millisecond
	for {
		p.mu.Lock()
		target := p.demand.target(time.Now())
		if target > p.pol.Min && p.room != nil && !p.room() {
			target = p.pol.Min
		}
		var extra []T
		if n := len(p.ready); n > target {
			extra = append(extra, p.ready[target:]...)
			clear(p.ready[target:])
			p.ready = p.ready[:target]
		}
		short := len(p.ready) < target
		p.mu.Unlock()
		for _, it := range extra {
			p.discard(it)
		}
		if short {
			it, err := p.spawn()
			if err != nil {
				p.log.Warn("sandbox: cannot pre-start an init", "err", err)
				select {
				case <-p.done:
					return
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, 5*time.Second)
				continue
			}
			backoff = 100 * time.Millisecond
			if !p.put(it) {
				return
			}
			continue
		}
		var t *time.Timer
		var tick <-chan time.Time
		if target > p.pol.Min {
			t = time.NewTimer(p.pol.Bucket)
			tick = t.C
		}
		select {
		case <-p.done:
			return
		case <-p.wake:
		case <-tick:
		}
		if t != nil {
			t.Stop()
		}
	}
}

// close stops the keeper and discards the ready items.
func (p *warmPool[T]) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	p.mu.Unlock()
	<-p.keeperDone
	p.discardReady()
}

// discardReady takes every ready item out of the pool and discards it.
func (p *warmPool[T]) discardReady() {
	p.mu.Lock()
	old := p.ready
	p.ready = nil
	p.mu.Unlock()
	for _, it := range old {
		p.discard(it)
	}
}
