package playground

import (
	"context"
	"fmt"
	"net/http"
	"testing"
)

func TestRateLimiterPerClient(t *testing.T) {
	r := newRateLimiter(0.001, 2, 100)
	for i := range 2 {
		if !r.allow("a") {
			t.Fatalf("request %d refused within the burst", i)
		}
	}
	if r.allow("a") {
		t.Error("third request allowed")
	}
	if !r.allow("b") {
		t.Error("another client is limited by a's bucket")
	}
	if newRateLimiter(-1, 0, 0).allow("x") != true {
		t.Error("disabled limiter refused")
	}
}

func TestRateLimiterMapIsBounded(t *testing.T) {
	r := newRateLimiter(0.001, 1, 10)
	r.allow("first")
	for i := range 1000 {
		r.allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if n := r.size(); n != 10 {
		t.Errorf("%d clients remembered, want the bound 10", n)
	}
	// The oldest client was forgotten: it gets a fresh bucket.
	if !r.allow("first") {
		t.Error("evicted client still limited")
	}
}

func TestClientIPIgnoresPort(t *testing.T) {
	for in, want := range map[string]string{"1.2.3.4:5678": "1.2.3.4", "[::1]:80": "::1", "weird": "weird"} {
		if got := clientIP(&http.Request{RemoteAddr: in}); got != want {
			t.Errorf("clientIP(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRateLimitIs429(t *testing.T) {
	_, _, ts := newFakeServer(t, func(c *Config) { c.RateLimit, c.RateBurst = 0.5, 2 })
	code := prog("out stdout 0s hi")
	runCode(t, ts.URL, code)
	runCode(t, ts.URL, code)
	resp := postJSON(t, context.Background(), ts.URL+"/api/run", map[string]string{"code": code})
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("third run: %s Retry-After=%q, want 429 and 2", resp.Status, resp.Header.Get("Retry-After"))
	}
}
