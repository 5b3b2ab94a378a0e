package playground

import (
	"net"
	"net/http"
	"sync"

	"playdoc/playground/internal/lru"

	"golang.org/x/time/rate"
)

// rateLimiter gives each client (remote IP) a token bucket. The map of
// buckets is bounded: the least recently seen client is forgotten first.
type rateLimiter struct {
	limit   rate.Limit
	burst   int
	mu      sync.Mutex
	clients *lru.Cache[string, *rate.Limiter] // at most maxClients
}

// newRateLimiter returns nil (no limit) when perSecond <= 0.
func newRateLimiter(perSecond float64, burst, maxClients int) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &rateLimiter{
		limit: rate.Limit(perSecond), burst: max(burst, 1),
		clients: lru.New[string, *rate.Limiter](int64(max(maxClients, 1)), nil, nil),
	}
}

// allow takes one token from client's bucket.
func (r *rateLimiter) allow(client string) bool {
	if r == nil {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	lim, ok := r.clients.Get(client)
	if !ok {
		lim = rate.NewLimiter(r.limit, r.burst)
		r.clients.Add(client, lim)
	}
	return lim.Allow()
}

// size is the number of clients remembered.
func (r *rateLimiter) size() int {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clients.Len()
}

// clientIP is the rate limit key: the remote IP (not the port).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
