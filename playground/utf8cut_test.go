package playground

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"playdoc/playground/api"
)

func TestCompleteLen(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"caf\xc3", 3},              // é cut after its first byte
		{"caf\xc3\xa9", 5},          // whole
		{"x\xe2", 1},                // € cut after 1 byte
		{"x\xe2\x82", 1},            // € cut after 2 bytes
		{"x\xe2\x82\xac", 4},        // whole
		{"x\xf0", 1},                // 😀 cut after 1, 2, 3 bytes
		{"x\xf0\x9f", 1},            //
		{"x\xf0\x9f\x98", 1},        //
		{"x\xf0\x9f\x98\x80", 5},    // whole
		{"\xff\xfe", 2},             // invalid for ever
		{"a\xa9", 2},                // a stray continuation byte
		{"a\xc0", 2},                // an overlong start: never valid
		{"a\xed\xa0", 3},            // a surrogate: never valid
		{"a\xf5", 2},                // beyond U+10FFFF
		{"\xe2\x82\xac\xe2\x82", 3}, // a whole one, then a cut one
	} {
		if got := completeLen([]byte(tc.in)); got != tc.want {
			t.Errorf("completeLen(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestCutAtNeverSplitsACharacter cuts text of 1- to 4-byte characters at
// every offset.
func TestCutAtNeverSplitsACharacter(t *testing.T) {
	for _, char := range []string{"é", "€", "😀"} {
		for off := 0; off < 4; off++ {
			b := []byte(strings.Repeat("a", off) + strings.Repeat(char, 50))
			for n := utf8.UTFMax; n < len(b); n++ {
				c := cutAt(b, n)
				if c > n || c < n-3 || !utf8.Valid(b[:c]) || !utf8.Valid(b[c:]) {
					t.Fatalf("cutAt(%q, %d) = %d", b, n, c)
				}
			}
		}
	}
}

// TestCharacterCutBetweenWritesIsKept: the "caf\xc3" then,
// 120 ms later, "\xa9 ok\n" (and 3- and 4-byte variants, and a cut
// character followed by the other stream) arrive as whole characters;
// only bytes that are invalid become U+FFFD.
func TestCharacterCutBetweenWritesIsKept(t *testing.T) {
	_, _, ts := newFakeServer(t, nil)
	for _, tc := range []struct {
		writes []string
		want   string
	}{
		{[]string{`raw stdout 0s "caf\xc3"`, `raw stdout 120ms "\xa9 ok\n"`}, "café ok\n"},
		{[]string{`raw stdout 0s "1 \xe2"`, `raw stdout 80ms "\x82"`, `raw stdout 80ms "\xac\n"`}, "1 €\n"},
		{[]string{`raw stdout 0s "\xf0\x9f"`, `raw stdout 120ms "\x98\x80 smile\n"`}, "😀 smile\n"},
		{[]string{`raw stdout 0s "bad \xff\xfe\n"`}, "bad \ufffd\ufffd\n"},
		{[]string{`raw stdout 0s "end \xc3"`}, "end \ufffd"},                                                // never completed
		{[]string{`raw stdout 0s "a\xc3"`, `raw stderr 60ms "warn\n"`, `raw stdout 60ms "\xa9\n"`}, "aé\n"}, // stdout only
	} {
		evs := runCode(t, ts.URL, prog(tc.writes...))
		for _, e := range evs {
			if (e.Kind == api.KindStdout || e.Kind == api.KindStderr) && strings.ContainsRune(e.Data, utf8.RuneError) && !strings.ContainsRune(tc.want, utf8.RuneError) {
				t.Errorf("%q: event %q has U+FFFD", tc.writes, e.Data)
			}
		}
		if got := output(evs, api.KindStdout); got != tc.want {
			t.Errorf("%q: stdout %q, want %q", tc.writes, got, tc.want)
		}
	}
}

// TestLongLinePiecesEndBetweenCharacters: a line over 64 KiB is sent in
// pieces that each end on a character boundary, whatever the characters'
// width and where the first one starts.
func TestLongLinePiecesEndBetweenCharacters(t *testing.T) {
	_, _, ts := newFakeServer(t, nil)
	for _, char := range []string{"é", "€", "😀"} {
		for _, prefix := range []string{"a", "ab", "abc"} {
			const n = 200 << 10
			evs := runCode(t, ts.URL, prog("long stdout "+strconv.Itoa(n)+" "+prefix+" "+char))
			for _, e := range evs {
				if e.Kind == api.KindStdout && (len(e.Data) > maxEventData || !utf8.ValidString(e.Data)) {
					t.Errorf("%s after %q: event of %d bytes, valid UTF-8: %v", char, prefix, len(e.Data), utf8.ValidString(e.Data))
				}
			}
			if out := output(evs, api.KindStdout); out != prefix+strings.Repeat(char, n/len(char))+"\n" {
				t.Errorf("%s after %q: %d bytes of output", char, prefix, len(out))
			}
		}
	}
}
