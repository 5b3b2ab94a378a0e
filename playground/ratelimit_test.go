package playground

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
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
		if got := clientIP(&http.Request{RemoteAddr: in}, nil); got != want {
			t.Errorf("clientIP(%q) = %q, want %q", in, got, want)
		}
	}
}

// X-Forwarded-For counts only when the peer is a trusted proxy, and then
// names the rightmost address that is not one: what a client writes
// itself to the left of its real address is not taken.
func TestClientIPBehindTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, c := range []struct {
		peer, xff string
		trusted   []netip.Prefix
		want      string
	}{
		{"10.0.0.5:1234", "203.0.113.7", nil, "10.0.0.5"},                      // no proxy trusted
		{"198.51.100.9:1234", "203.0.113.7", trusted, "198.51.100.9"},          // an untrusted peer's header
		{"10.0.0.5:1234", "203.0.113.7", trusted, "203.0.113.7"},               // one proxy
		{"10.0.0.5:1234", "1.1.1.1, 203.0.113.7", trusted, "203.0.113.7"},      // a spoofed hop on the left
		{"10.0.0.5:1234", "203.0.113.7, 10.0.0.9", trusted, "203.0.113.7"},     // two proxies
		{"10.0.0.5:1234", "10.0.0.8, 10.0.0.9", trusted, "10.0.0.8"},           // proxies all the way
		{"10.0.0.5:1234", "203.0.113.7, junk", trusted, "10.0.0.5"},            // unreadable: the peer
		{"10.0.0.5:1234", "", trusted, "10.0.0.5"},                             // no header
		{"[fd00::1]:443", "2001:db8::7", trusted, "2001:db8::7"},               // IPv6
		{"[::ffff:10.0.0.5]:80", "::ffff:203.0.113.7", trusted, "203.0.113.7"}, // IPv4 in IPv6
	} {
		r := &http.Request{RemoteAddr: c.peer, Header: http.Header{}}
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := clientIP(r, c.trusted); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q, trusted %v: %q, want %q", c.peer, c.xff, c.trusted, got, c.want)
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
