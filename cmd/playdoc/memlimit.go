package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// liveHeapMetric is the runtime's count of heap bytes marked live by the
// last collection (runtime/metrics, Go 1.21+).
const liveHeapMetric = "/gc/heap/live:bytes"

// limitFollowEvery is how often followLiveHeap samples the live heap: a
// build allocates ~0.5 GB/s on one core, so in 25 ms the heap grows by at
// most ~13 MB between a sample and the next.
const limitFollowEvery = 25 * time.Millisecond

// followedLimit is the memory limit (bytes) for a live heap of live bytes
// under a limit of limit: limit, until the live heap passes three fifths
// of it; then twice the live heap, so that the collector (GOGC off) runs
// about once per doubling, as it would with GOGC at 100. Without this,
// content whose live heap outgrows the size-based limit (a flat folder of
// 6000 pages keeps 300-367 MB live against a 370 MB limit) made the
// collector run every ~60 ms: 77 collections instead of 20, 1.4x the CPU.
// Three fifths, not half: the 1000-page corpus keeps ~55 MB live under
// its 107 MiB limit, and raising that limit cost 10-13 MB of peak RSS for
// no CPU.
func followedLimit(limit, live int64) int64 {
	if live <= limit/5*3 {
		return limit
	}
	return max(limit, 2*live)
}

// followLiveHeap raises the soft memory limit set by debug.SetMemoryLimit
// as the live heap grows (followedLimit), every limitFollowEvery, until
// ctx ends. It never lowers it.
func followLiveHeap(ctx context.Context) {
	sample := []metrics.Sample{{Name: liveHeapMetric}}
	tick := time.NewTicker(limitFollowEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return // not in this runtime: keep the limit as it is
		}
		live := int64(sample[0].Value.Uint64())
		limit := debug.SetMemoryLimit(-1)
		if next := followedLimit(limit, live); next > limit {
			debug.SetMemoryLimit(next)
		}
	}
}
