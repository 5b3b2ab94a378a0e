package devserver

import (
	"strings"
	"testing"
)

func TestHubDropsSlowClient(t *testing.T) {
	h := newHub(func() []Event { return []Event{{Name: "hello", Data: HelloData{Server: "s"}}} })
	slow, first, err := h.subscribe()
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 1 || !strings.HasPrefix(string(first[0]), "event: hello\ndata: {") {
		t.Fatalf("initial events %q", first)
	}
	for i := range clientBuffer + 1 {
		if err := h.publish(func() Event { return Event{Name: "reload", Data: ReloadData{Paths: []string{}, Build: i}} }); err != nil {
			t.Fatal(err)
		}
	}
	// The buffered events are still there, then the channel ends.
	n := 0
	for range slow {
		n++
	}
	if n != clientBuffer {
		t.Errorf("slow client got %d events before being dropped, want %d", n, clientBuffer)
	}
	if h.count() != 0 {
		t.Errorf("%d clients, want the slow one dropped", h.count())
	}
	h.unsubscribe(slow) // after a drop: no double close
}

func TestEventEncoding(t *testing.T) {
	msg, err := Event{Name: "error", Data: ErrorData{Errors: []string{"content/a.md:3: bad \"x\"\nnext"}, Build: 2}}.encode()
	if err != nil {
		t.Fatal(err)
	}
	// One data line: JSON escapes the newline, which would otherwise end
	// the field.
	want := "event: error\ndata: {\"errors\":[\"content/a.md:3: bad \\\"x\\\"\\nnext\"],\"build\":2}\n\n"
	if string(msg) != want {
		t.Errorf("encoded\n%q\nwant\n%q", msg, want)
	}
}
