package playground

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
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

// clientIP is the key of the rate limit and the share quotas: the peer's
// IP (not the port), or, when the peer is one of the trusted proxies, the
// client it names in X-Forwarded-For (see Config.TrustedProxies).
func (s *Server) clientIP(r *http.Request) string {
	return clientIP(r, s.cfg.TrustedProxies)
}

// clientIP walks X-Forwarded-For from the right (the address the nearest
// proxy saw) past the trusted proxies; the first address that is not one
// is the client. A header that cannot be read, or a peer that is not
// trusted, gives the peer: only a trusted proxy's word is taken.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(peer, trusted) {
		return host
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // unreadable: trust no further
		}
		client = a.Unmap()
		if !isTrusted(client, trusted) {
			break
		}
	}
	return client.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
