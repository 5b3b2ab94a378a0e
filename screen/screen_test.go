package screen

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// Case is one shared test case; the browser test runs the same file
// through the page's copy of the rules.
type Case struct {
	Name   string
	Pieces []struct {
		Stderr bool
		T      float64
		Data   string
	}
	Lines []Line
}

func loadCases(t *testing.T) []Case {
	b, err := os.ReadFile("testdata/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cs []Case
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	if len(cs) < 10 {
		t.Fatalf("only %d cases", len(cs))
	}
	return cs
}

func TestCases(t *testing.T) {
	for _, c := range loadCases(t) {
		var s Screen
		for _, p := range c.Pieces {
			s.Write(p.Stderr, p.T, p.Data)
		}
		got := s.Lines()
		if len(got) == 0 && len(c.Lines) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, c.Lines) {
			t.Errorf("%s: got %+v, want %+v", c.Name, got, c.Lines)
		}
	}
}

// TestPiecesDoNotMatter: however the same bytes are cut into pieces, the
// screen is the same.
func TestPiecesDoNotMatter(t *testing.T) {
	const out = "Loading...\r\x1b[32mLoaded    \x1b[0m\nline two\n\nprogress 1%\rprogress 100%\n\x1b]0;t\x07end"
	var whole Screen
	whole.Write(false, 0, out)
	for size := 1; size < 8; size++ {
		var s Screen
		for i := 0; i < len(out); i += size {
			s.Write(false, 0, out[i:min(i+size, len(out))])
		}
		if s.Text() != whole.Text() {
			t.Errorf("pieces of %d bytes: %q, whole: %q", size, s.Text(), whole.Text())
		}
	}
	if want := "Loaded    \nline two\n\nprogress 100%\nend"; whole.Text() != want {
		t.Errorf("Text = %q, want %q", whole.Text(), want)
	}
}
