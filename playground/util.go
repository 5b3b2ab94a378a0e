package playground

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// ms is d in milliseconds, for log lines.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// newID returns a random, unguessable run id.
func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
