package main

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestFollowedLimit(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct{ limit, live, want int64 }{
		{100 * mb, 10 * mb, 100 * mb},  // far below: the size-based limit holds
		{100 * mb, 55 * mb, 100 * mb},  // the 1000-page corpus: still
		{100 * mb, 60 * mb, 100 * mb},  // at three fifths: still
		{100 * mb, 70 * mb, 140 * mb},  // past them: twice the live heap
		{100 * mb, 300 * mb, 600 * mb}, // a flat 6000-page folder's case
	} {
		if got := followedLimit(c.limit, c.live); got != c.want {
			t.Errorf("followedLimit(%d MB, %d MB live) = %d MB, want %d MB", c.limit/mb, c.live/mb, got/mb, c.want/mb)
		}
	}
}

// TestFollowLiveHeapRaisesTheLimit keeps a live heap far above a small
// limit and checks that followLiveHeap raises the limit to at least twice
// it, and never lowers it.
func TestFollowLiveHeapRaisesTheLimit(t *testing.T) {
	const small = 8 << 20
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(small))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); followLiveHeap(ctx) }()
	defer func() { cancel(); <-done }()

	keep := make([][]byte, 0, 64)
	for range 64 {
		b := make([]byte, 1<<20)
		b[0] = 1
		keep = append(keep, b)
	}
	const want = 100 << 20
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC() // the live count comes from the last collection
		// The runtime's live count is a little under the 64 MiB kept
		// (61 MiB seen): about twice it, far above the 8 MiB set.
		if got := debug.SetMemoryLimit(-1); got >= want {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("limit %d MiB with 64 MiB live, want at least %d MiB", got>>20, want>>20)
		}
		time.Sleep(10 * time.Millisecond)
	}
	runtime.KeepAlive(keep)
	keep = nil
	runtime.GC()
	time.Sleep(5 * limitFollowEvery)
	if got := debug.SetMemoryLimit(-1); got < want {
		t.Errorf("the limit fell to %d MiB once the heap was freed; it must never fall", got>>20)
	}
}
