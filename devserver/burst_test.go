package devserver

import (
	"testing"
	"testing/synctest"
	"time"
)

// dueAfter feeds b a change every every (0: one change only) and returns
// how long after the first change b fell due, on the bubble's clock.
func dueAfter(t *testing.T, b *burst, every time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	b.change()
	var tick <-chan time.Time
	if every > 0 {
		tk := time.NewTicker(every)
		defer tk.Stop()
		tick = tk.C
	}
	// A burst that never falls due (starved by the changes) fails
	// rather than runs forever on the fake clock.
	giveUp := time.After(10 * b.maxWait)
	for {
		select {
		case <-giveUp:
			t.Fatalf("not due %v after the first change", 10*b.maxWait)
		case <-tick:
			b.change()
		case <-b.C():
			if !b.end() {
				t.Fatal("the burst fell due without a change")
			}
			return time.Since(start)
		}
	}
}

// TestBurstQuiet: a burst is due quiet after its last change, and each
// change within quiet pushes it back.
func TestBurstQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBurst(8*time.Millisecond, 200*time.Millisecond)
		defer b.stop()
		if got := dueAfter(t, b, 0); got != 8*time.Millisecond {
			t.Errorf("one change: due after %v, want 8ms", got)
		}
		// Three changes 5 ms apart: due 8 ms after the third.
		start := time.Now()
		b.change()
		for range 2 {
			time.Sleep(5 * time.Millisecond)
			b.change()
		}
		<-b.C()
		if !b.end() {
			t.Fatal("no change in the burst")
		}
		if got := time.Since(start); got != 18*time.Millisecond {
			t.Errorf("changes at 0, 5, 10 ms: due after %v, want 18ms", got)
		}
	})
}

// TestBurstMaxWait: changes that never leave quiet still make the burst
// due maxWait after its first change, and the next burst counts its own
// first change.
func TestBurstMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBurst(50*time.Millisecond, 150*time.Millisecond)
		defer b.stop()
		for i := range 3 {
			if got := dueAfter(t, b, 10*time.Millisecond); got != 150*time.Millisecond {
				t.Errorf("burst %d of changes every 10 ms: due after %v, want the max wait, 150ms", i, got)
			}
		}
	})
}

// TestBurstEndWithoutChange: once ended, a burst is not due again until a
// change starts the next one.
func TestBurstEndWithoutChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBurst(8*time.Millisecond, 200*time.Millisecond)
		defer b.stop()
		dueAfter(t, b, 0)
		time.Sleep(time.Hour)
		select {
		case <-b.C():
			t.Error("due again without a change")
		default:
		}
		if b.end() {
			t.Error("end reports a change that was not made")
		}
	})
}
