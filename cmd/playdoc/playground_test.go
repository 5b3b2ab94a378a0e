package main

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"
)

// TestPrebuildSources: the playground is handed the source of every
// runnable snippet of the content, in page then document order, and a
// content error costs only the pre-build (logged, nothing handed over).
func TestPrebuildSources(t *testing.T) {
	page := func(order, code string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("---\ntitle: P" + order + "\norder: " + order + "\nsummary: S.\n---\n\n" +
			"```go run name=s" + order + "\n" + code + "```\n\n```output\n```\n")}
	}
	var logs bytes.Buffer
	e := &env{stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.NewTextHandler(&logs, nil))}
	got := prebuildSources(e, fstest.MapFS{
		"01-a.md": page("1", "package main\n\nfunc main() { println(1) }\n"),
		"02-b.md": page("2", "package main\n\nfunc main() { println(2) }\n"),
	})
	if len(got) != 2 || !strings.Contains(got[0], "println(1)") || !strings.Contains(got[1], "println(2)") {
		t.Errorf("prebuild sources %q, want the two snippets in page order", got)
	}
	if logs.Len() != 0 {
		t.Errorf("logged %q for valid content", logs.String())
	}

	got = prebuildSources(e, fstest.MapFS{"01-a.md": {Data: []byte("---\ntitle: [\n---\n")}})
	if got != nil {
		t.Errorf("prebuild sources %q for broken content, want none", got)
	}
	if !strings.Contains(logs.String(), "cannot pre-build") {
		t.Errorf("no warning logged for broken content: %q", logs.String())
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := parsePrefixes(" 10.0.0.0/8, 192.0.2.7 ,fd00::/8,2001:db8::1")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "fd00::/8", "2001:db8::1/128"}
	if len(got) != len(want) {
		t.Fatalf("%v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("%d: %s, want %s", i, got[i], want[i])
		}
	}
	if p, err := parsePrefixes(""); err != nil || len(p) != 0 {
		t.Errorf("empty: %v %v", p, err)
	}
	if _, err := parsePrefixes("10.0.0.0/8,proxy.example"); err == nil || !strings.Contains(err.Error(), "proxy.example") {
		t.Errorf("a host name: %v, want an error naming it", err)
	}
}
