package playground

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	rtmetrics "runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"playdoc/playground/api"
)

const burstProg = `package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("start")
	time.Sleep(300 * time.Millisecond)
	fmt.Println("end")
}
`

// burstResult is what one client of a burst saw.
type burstResult struct {
	status     int
	retryAfter string
	took       time.Duration
	last       api.Event // the stream's last event, when 200
	err        error
}

// burst sends n concurrent /api/run requests of code and waits for all.
func burst(ctx context.Context, base, code string, n int) []burstResult {
	body, _ := json.Marshal(map[string]string{"code": code})
	res := make([]burstResult, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			r := &res[i]
			t0 := time.Now()
			req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/run", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				r.err = err
				return
			}
			defer resp.Body.Close()
			r.status, r.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
			b, err := io.ReadAll(resp.Body)
			r.took, r.err = time.Since(t0), err
			if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); resp.StatusCode == 200 && len(lines) > 0 {
				r.err = json.Unmarshal([]byte(lines[len(lines)-1]), &r.last)
			}
		})
	}
	close(start)
	wg.Wait()
	return res
}

// heapBytes is the live heap of this process (server and clients).
func heapBytes() uint64 {
	s := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64()
}

// 200 clients at once, more than the runners and the queue hold: each
// gets its stream to the end or a prompt 503 / 429 with Retry-After;
// none hangs, the server's heap stays small, and a shutdown with runs in
// flight lets them finish.
func TestRealBurstOf200AndGracefulShutdown(t *testing.T) {
	s, ts := newRealServer(t, func(c *Config) { c.Runners, c.Queue = 8, 16 })
	// Generous: a client that hangs fails here instead of at the go
	// test timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := uniq(burstProg)

	var peak atomic.Uint64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			if h := heapBytes(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	})
	t0 := time.Now()
	res := burst(ctx, ts.URL, code, 200)
	took := time.Since(t0)
	close(stop)
	sampler.Wait()

	ok, busy := 0, 0
	var slowest503 time.Duration
	for i, r := range res {
		switch {
		case r.err != nil:
			t.Errorf("client %d: %v", i, r.err)
		case r.status == 200:
			ok++
			if r.last.Kind != api.KindExit || r.last.Code != 0 {
				t.Errorf("client %d: stream ended with %+v", i, r.last)
			}
		case r.status == 503 || r.status == 429:
			busy++
			slowest503 = max(slowest503, r.took)
			if r.retryAfter == "" {
				t.Errorf("client %d: %d without Retry-After", i, r.status)
			}
		default:
			t.Errorf("client %d: status %d", i, r.status)
		}
	}
	if ok < 8 || ok > 8+16 || ok+busy != 200 {
		t.Errorf("%d streams and %d refusals, want 8..24 streams (runners + queue) and the rest refused", ok, busy)
	}
	if slowest503 > 5*time.Second {
		t.Errorf("a refusal took %v", slowest503)
	}
	// Bounded: no per-request buffers piling up. The test's own 200
	// clients are in this heap too.
	if p := peak.Load(); p > 128<<20 {
		t.Errorf("heap peaked at %d MiB during the burst", p>>20)
	}
	t.Logf("200 clients: %d streams, %d refused (slowest refusal %v), all done in %v, heap peak %.1f MiB",
		ok, busy, slowest503, took.Round(time.Millisecond), float64(peak.Load())/(1<<20))

	// Runs in flight at shutdown finish; new ones are refused.
	inflight := make(chan []burstResult)
	go func() { inflight <- burst(ctx, ts.URL, uniq(burstProg), 6) }()
	eventually(t, 10*time.Second, "the runs to start", func() bool {
		r, _ := s.counts()
		return r >= 6
	})
	done := make(chan error)
	go func() {
		sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
		defer scancel()
		done <- s.Shutdown(sctx)
	}()
	eventually(t, 5*time.Second, "the server to stop admitting", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.closing
	})
	if r := burst(ctx, ts.URL, code, 1)[0]; r.status != 503 || r.retryAfter == "" {
		t.Errorf("run during shutdown: %d %q", r.status, r.retryAfter)
	}
	for i, r := range <-inflight {
		if r.err != nil || r.status != 200 || r.last.Kind != api.KindExit || r.last.Code != 0 || r.last.Reason != api.ReasonNone {
			t.Errorf("in-flight run %d at shutdown: %d %v %+v", i, r.status, r.err, r.last)
		}
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}
