// Package loopback gives the bench commands HTTP clients that each connect
// from their own address on 127.0.0.0/8, so that a server's per-client
// limits see a crowd of distinct clients.
package loopback

import (
	"net"
	"net/http"
	"time"
)

// Client returns client i's HTTP client: connections from
// 127.(second + i/62500).(i/250 % 250).(2 + i%250), dial timeout 10 s,
// no keep-alive (each request its own connection, as distinct readers'
// would be), no overall timeout.
func Client(i, second int) *http.Client {
	ip := net.IPv4(127, byte(second+i/250/250), byte(i/250%250), byte(2+i%250))
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 10 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}
