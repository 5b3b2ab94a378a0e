package playground

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"playdoc/playground/api"
)

// data is the concatenated data of events.
func data(evs []api.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Data)
	}
	return out
}

func TestLineStreamSplitsLines(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ls := newLineStream(api.KindStderr, t0)
	evs := ls.push([]byte("a\nbb\nc"), t0.Add(1500*time.Microsecond))
	if got := data(evs); len(got) != 2 || got[0] != "a\n" || got[1] != "bb\n" {
		t.Fatalf("events %q, want the two complete lines", got)
	}
	for _, e := range evs {
		if e.Kind != api.KindStderr || e.T != 1500*time.Microsecond {
			t.Errorf("event %+v, want kind stderr at 1.5 ms", e)
		}
	}
	if !ls.hasPending() {
		t.Fatal("the partial line c is not pending")
	}
	evs = ls.push([]byte("c\n"), t0.Add(3*time.Millisecond))
	if got := data(evs); len(got) != 1 || got[0] != "cc\n" || evs[0].T != 3*time.Millisecond {
		t.Errorf("events %+v, want the completed line cc at 3 ms", evs)
	}
	if ls.hasPending() || ls.flush() != nil {
		t.Error("something pending after a complete line")
	}
}

// TestLineStreamFlushesAPartialLineWhenItStopsGrowing: a line without its
// newline is sent once it has not grown for partialFlush, stamped with its
// last growth; each growth restarts the wait.
func TestLineStreamFlushesAPartialLineWhenItStopsGrowing(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ls := newLineStream(api.KindStdout, t0)
	ls.push([]byte("Name? "), t0.Add(10*time.Millisecond))
	if evs := ls.flushDue(t0.Add(40 * time.Millisecond)); evs != nil {
		t.Fatalf("flushed after 30 ms: %+v", evs)
	}
	ls.push([]byte("(y/n) "), t0.Add(40*time.Millisecond))
	if evs := ls.flushDue(t0.Add(70 * time.Millisecond)); evs != nil {
		t.Fatalf("flushed 30 ms after the line grew: %+v", evs)
	}
	evs := ls.flushDue(t0.Add(40*time.Millisecond + partialFlush - time.Millisecond))
	if len(evs) != 1 || evs[0].Data != "Name? (y/n) " || evs[0].T != 40*time.Millisecond || evs[0].Kind != api.KindStdout {
		t.Fatalf("flushDue = %+v, want the partial line at 40 ms", evs)
	}
	if ls.hasPending() || ls.flushDue(t0.Add(time.Hour)) != nil {
		t.Error("the partial line was sent twice")
	}
}

func TestLineStreamFlushAtEnd(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ls := newLineStream(api.KindStdout, t0)
	if ls.flush() != nil {
		t.Error("flush of an empty stream sent something")
	}
	ls.push([]byte("no newline"), t0.Add(2*time.Millisecond))
	evs := ls.flush()
	if len(evs) != 1 || evs[0].Data != "no newline" || evs[0].T != 2*time.Millisecond {
		t.Errorf("flush = %+v", evs)
	}
}

// TestLineStreamCutsLongLines: a line longer than maxEventData comes in
// pieces of at most maxEventData bytes, each valid UTF-8, that add up to
// the line; a line of exactly maxEventData bytes, newline included, is
// one event.
func TestLineStreamCutsLongLines(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ls := newLineStream(api.KindStdout, t0)
	line := strings.Repeat("a", maxEventData-1) + "\n"
	if got := data(ls.push([]byte(line), t0)); len(got) != 1 || got[0] != line {
		t.Fatalf("a line of maxEventData bytes came as %d events", len(got))
	}
	// "é" is 2 bytes and maxEventData is even: start off by one byte so
	// that a cut at maxEventData would split a rune.
	long := "x" + strings.Repeat("é", maxEventData) + "\n"
	var evs []api.Event
	for i := 0; i < len(long); i += 1000 {
		evs = append(evs, ls.push([]byte(long[i:min(i+1000, len(long))]), t0)...)
	}
	if ls.hasPending() {
		t.Fatal("part of the line is still pending after its newline")
	}
	var b strings.Builder
	for _, e := range evs {
		if len(e.Data) > maxEventData || !utf8.ValidString(e.Data) {
			t.Fatalf("piece of %d bytes, valid UTF-8 %v", len(e.Data), utf8.ValidString(e.Data))
		}
		b.WriteString(e.Data)
	}
	if b.String() != long || len(evs) < 3 {
		t.Errorf("%d pieces adding up to %d bytes, want at least 3 adding up to the %d-byte line", len(evs), b.Len(), len(long))
	}
}
