package sandbox

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeInits stands for the inits a warmPool starts and ends: numbers, with
// a count of the live ones.
type fakeInits struct {
	mu         sync.Mutex
	next, live int
	dead       map[int]bool
}

func (f *fakeInits) spawn() (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	f.live++
	return f.next, nil
}

func (f *fakeInits) discard(int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.live--
}

func (f *fakeInits) alive(n int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.dead[n]
}

func (f *fakeInits) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.live
}

// TestWarmPoolFollowsBursts: the pool holds Min while idle, grows in the
// background toward the largest burst of the last window (never above Max),
// serves the next burst of that size from what is ready, keeps its size
// while bursts recur, shrinks back to Min once they stop, and holds nothing
// after close. Time is synctest's, so the test does not depend on the
// machine's speed.
func TestWarmPoolFollowsBursts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeInits{dead: map[int]bool{}}
		pol := warmPolicy{Min: 2, Max: 30, Bucket: time.Second, Window: 10}
		p := newWarmPool(pol, f.spawn, f.discard, f.alive, func() bool { return true }, slog.New(slog.NewTextHandler(io.Discard, nil)))
		synctest.Wait()
		if n := p.size(); n != 2 {
			t.Fatalf("idle pool holds %d, want Min 2", n)
		}

		// A burst of 20 in one bucket: at least the 2 ready are served
		// from the pool, the rest start their own (as takeInit does). More
		// may come from the pool: each take wakes the keeper, which can
		// refill in parallel with the burst on a machine with more than one
		// CPU (synctest fakes time, not scheduling), as it did in the
		// cgroup v2 VM run.
		burst := func(n int) (fromPool int) {
			for range n {
				if _, ok := p.take(); ok {
					fromPool++
				} else if _, err := f.spawn(); err != nil {
					t.Fatal(err)
				}
			}
			return fromPool
		}
		if got := burst(20); got < 2 {
			t.Errorf("first burst: %d from the pool, want at least the 2 ready", got)
		}
		synctest.Wait()
		if n := p.size(); n != 20 {
			t.Fatalf("after a burst of 20 the pool holds %d, want 20", n)
		}
		// The next burst of the same size, seconds later, is served whole.
		time.Sleep(3 * time.Second)
		if got := burst(20); got != 20 {
			t.Errorf("second burst: %d of 20 from the pool", got)
		}
		synctest.Wait()
		if n := p.size(); n != 20 {
			t.Errorf("refilled to %d, want 20", n)
		}

		// A burst larger than Max: the pool stops at Max.
		time.Sleep(time.Second)
		burst(50)
		synctest.Wait()
		if n := p.size(); n != pol.Max {
			t.Errorf("after a burst of 50 the pool holds %d, want Max %d", n, pol.Max)
		}

		// A dead ready init is skipped and ended, not handed out.
		time.Sleep(time.Second)
		p.mu.Lock()
		oldest := p.ready[0]
		p.mu.Unlock()
		f.mu.Lock()
		f.dead[oldest] = true
		f.mu.Unlock()
		if it, ok := p.take(); !ok || it == oldest {
			t.Errorf("take returned %d %v, not a live init", it, ok)
		}

		// Idle for less than the window: the size holds.
		time.Sleep(time.Duration(pol.Window-2) * pol.Bucket)
		synctest.Wait()
		if n := p.size(); n != pol.Max {
			t.Errorf("%v after the last burst the pool holds %d, want %d", time.Duration(pol.Window-2)*pol.Bucket, n, pol.Max)
		}
		// Idle for longer: back to Min.
		time.Sleep(3 * pol.Bucket)
		synctest.Wait()
		if n := p.size(); n != pol.Min {
			t.Errorf("idle for a window, the pool holds %d, want Min %d", n, pol.Min)
		}

		p.close()
		// Live: the inits the bursts took (never given back) and none of
		// the pool's.
		taken := 2 + 18 + 20 + 50 + 1
		if n := f.count(); n != taken {
			t.Errorf("after close %d inits live, want the %d taken", n, taken)
		}
	})
}

// TestWarmPoolRespectsRoom: without room in the runs' totals the pool stays
// at Min whatever the bursts.
func TestWarmPoolRespectsRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeInits{dead: map[int]bool{}}
		pol := warmPolicy{Min: 1, Max: 30, Bucket: time.Second, Window: 10}
		p := newWarmPool(pol, f.spawn, f.discard, f.alive, func() bool { return false }, slog.New(slog.NewTextHandler(io.Discard, nil)))
		defer p.close()
		for range 10 {
			p.take()
		}
		synctest.Wait()
		if n := p.size(); n != 1 {
			t.Errorf("without room the pool holds %d, want Min 1", n)
		}
	})
}

// TestDemandTarget: the target is the busiest bucket of the window,
// clamped, and forgets buckets older than the window, also after a long
// gap.
func TestDemandTarget(t *testing.T) {
	t0 := time.Unix(1000, 0)
	d := newDemand(warmPolicy{Min: 2, Max: 8, Bucket: time.Second, Window: 5}, t0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	for range 5 {
		d.took(at(0.5))
	}
	for range 3 {
		d.took(at(2.1))
	}
	for _, c := range []struct {
		at   float64
		want int
	}{{0.9, 5}, {2.5, 5}, {4.9, 5}, {5.0, 3}, {6.99, 3}, {7.0, 2}, {100, 2}} {
		if got := d.target(at(c.at)); got != c.want {
			t.Errorf("target at %.2fs = %d, want %d", c.at, got, c.want)
		}
	}
	for range 20 {
		d.took(at(200))
	}
	if got := d.target(at(200.5)); got != 8 {
		t.Errorf("target after 20 takes = %d, want Max 8", got)
	}
}
