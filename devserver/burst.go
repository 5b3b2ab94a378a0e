package devserver

import "time"

// burst is the watch loop's debounce decision: changes gather into a
// burst that is due quiet after its last change, or maxWait after its
// first at the latest, so that a stream of changes cannot starve the
// rebuilds. The loop feeds it changes and builds when C fires; it holds
// no goroutine, and its one timer runs on a synctest bubble's fake clock
// in tests.
type burst struct {
	quiet, maxWait time.Duration
	pending        bool      // a change since the last end
	first          time.Time // the burst's first change
	timer          *time.Timer
}

func newBurst(quiet, maxWait time.Duration) *burst {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &burst{quiet: quiet, maxWait: maxWait, timer: t}
}

// change records a change made now: the burst is then due quiet from
// now, but no later than maxWait after its first change.
func (b *burst) change() {
	now := time.Now()
	if !b.pending {
		b.pending, b.first = true, now
	}
	b.timer.Reset(min(b.quiet, max(b.maxWait-now.Sub(b.first), 0)))
}

// C receives when the burst is due; call end then.
func (b *burst) C() <-chan time.Time { return b.timer.C }

// end closes the burst when C fired and reports whether it had a change
// (the caller builds then); the next change starts a new burst.
func (b *burst) end() bool {
	p := b.pending
	b.pending = false
	return p
}

// stop releases the timer.
func (b *burst) stop() { b.timer.Stop() }
