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

// kindsData renders events as "kind:data" for comparisons.
func kindsData(evs []api.Event) string {
	var parts []string
	for _, e := range evs {
		parts = append(parts, string(e.Kind)+":"+e.Data)
	}
	return strings.Join(parts, "|")
}

// TestOutputStreamsKeepTheWriteOrder: a partial line of one stream is
// sent before the other stream's next write, so the events follow the
// order of the program's writes.
func TestOutputStreamsKeepTheWriteOrder(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var evs []api.Event
	o := newOutputStreams(t0, 1<<20, func(e api.Event) { evs = append(evs, e) })
	o.write(false, []byte("Loading"), t0.Add(time.Millisecond))
	if !o.pending() || len(evs) != 0 {
		t.Fatalf("after a partial line: pending %v, events %q", o.pending(), kindsData(evs))
	}
	o.write(true, []byte("warning\n"), t0.Add(2*time.Millisecond))
	o.write(false, []byte(" done\n"), t0.Add(3*time.Millisecond))
	want := "stdout:Loading|stderr:warning\n|stdout: done\n"
	if got := kindsData(evs); got != want {
		t.Errorf("events %q, want %q", got, want)
	}
	if evs[0].T != time.Millisecond {
		t.Errorf("the partial line is stamped %v, want when it was written (1ms)", evs[0].T)
	}
	if o.pending() {
		t.Error("something pending after complete lines")
	}
}

// TestOutputStreamsFlushDue: a partial line is sent once it is due, not
// before.
func TestOutputStreamsFlushDue(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var evs []api.Event
	o := newOutputStreams(t0, 1<<20, func(e api.Event) { evs = append(evs, e) })
	o.write(true, []byte("50%"), t0)
	o.flushDue(t0.Add(partialFlush / 2))
	if len(evs) != 0 {
		t.Fatalf("sent %q before it was due", kindsData(evs))
	}
	o.flushDue(t0.Add(partialFlush))
	if got := kindsData(evs); got != "stderr:50%" || o.pending() {
		t.Errorf("events %q (pending %v), want the partial line once due", got, o.pending())
	}
}

// TestOutputStreamsLimit: the write that passes the limit is cut there,
// between characters, everything waiting is sent, and write reports it.
func TestOutputStreamsLimit(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var evs []api.Event
	o := newOutputStreams(t0, 10, func(e api.Event) { evs = append(evs, e) })
	if o.write(false, []byte("abc"), t0) {
		t.Fatal("3 bytes of 10 reported over the limit")
	}
	// 7 bytes of room: "ab" and three 2-byte "é" (6 + 2 = 8 would pass).
	if !o.write(true, []byte("ab\néééé\n"), t0) {
		t.Fatal("a write past the limit not reported")
	}
	want := "stdout:abc|stderr:ab\n|stderr:éé"
	if got := kindsData(evs); got != want {
		t.Errorf("events %q, want %q", got, want)
	}
	if o.pending() {
		t.Error("something still pending after the limit")
	}
	var n int
	for _, e := range evs {
		n += len(e.Data)
		if !utf8.ValidString(e.Data) {
			t.Errorf("event %q cut inside a character", e.Data)
		}
	}
	if n > 10 {
		t.Errorf("%d bytes sent, limit 10", n)
	}
}
