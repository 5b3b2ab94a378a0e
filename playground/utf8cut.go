package playground

import "unicode/utf8"

// completeLen is the length of b without a trailing incomplete UTF-8
// sequence: the one to three bytes at its end that begin a character the
// next write may complete. Bytes that can never be part of a character
// (\xff, a stray continuation byte, an overlong or surrogate start) count
// as complete: they are invalid now and stay so, and become U+FFFD.
func completeLen(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-(utf8.UTFMax-1); i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return len(b)
			}
			return i
		}
	}
	return len(b)
}

// cutAt is where to cut b for a piece of at most n bytes (n >= 4): at n,
// moved back so that no character is split; len(b) when b is no longer.
func cutAt(b []byte, n int) int {
	if len(b) <= n {
		return len(b)
	}
	if c := completeLen(b[:n]); c > 0 {
		return c
	}
	return n
}
