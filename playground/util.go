package playground

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

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
