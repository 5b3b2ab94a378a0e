package playground

import (
	"container/list"
	"net"
	"net/http"
	"sync"

	"golang.org/x/time/rate"
)

// rateLimiter gives each client (remote IP) a token bucket. The map of
// buckets is bounded: the least recently seen client is forgotten first.
type rateLimiter struct {
	limit   rate.Limit
	burst   int
	max     int
	mu      sync.Mutex
	lru     *list.List // front = most recently seen; values are *clientBucket
	clients map[string]*list.Element
}

type clientBucket struct {
	client string
	lim    *rate.Limiter
}

// newRateLimiter returns nil (no limit) when perSecond <= 0.
func newRateLimiter(perSecond float64, burst, maxClients int) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &rateLimiter{
		limit: rate.Limit(perSecond), burst: max(burst, 1), max: max(maxClients, 1),
		lru: list.New(), clients: map[string]*list.Element{},
	}
}

// allow takes one token from client's bucket.
func (r *rateLimiter) allow(client string) bool {
	if r == nil {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	el, ok := r.clients[client]
	if ok {
		r.lru.MoveToFront(el)
	} else {
		for r.lru.Len() >= r.max {
			old := r.lru.Back()
			r.lru.Remove(old)
			delete(r.clients, old.Value.(*clientBucket).client)
		}
		el = r.lru.PushFront(&clientBucket{client: client, lim: rate.NewLimiter(r.limit, r.burst)})
		r.clients[client] = el
	}
	return el.Value.(*clientBucket).lim.Allow()
}

// size is the number of clients remembered.
func (r *rateLimiter) size() int {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.clients)
}

// clientIP is the rate limit key: the remote IP (not the port).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
