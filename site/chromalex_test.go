package site

import (
	"slices"
	"testing"
	"time"

	"github.com/alecthomas/chroma/v2"
)

// TestStableTokens: a tokenisation slow enough for one of chroma's rule
// matches to have timed out is done again; the first quick one, or two
// slow ones that agree, is kept; at most maxLexAttempts are made.
func TestStableTokens(t *testing.T) {
	kw := []chroma.Token{{Type: chroma.Keyword, Value: "SELECT"}}
	text := []chroma.Token{{Type: chroma.Text, Value: "SELECT"}}
	other := []chroma.Token{{Type: chroma.Name, Value: "SELECT"}}
	slow, quick := chromaMatchTimeout, chromaMatchTimeout/10
	type run struct {
		tokens []chroma.Token
		took   time.Duration
	}
	for _, tc := range []struct {
		name  string
		runs  []run
		want  []chroma.Token
		calls int
	}{
		{"quick", []run{{kw, quick}}, kw, 1},
		{"a stall, then quick", []run{{text, slow}, {kw, quick}}, kw, 2},
		{"slow every time, agreeing", []run{{kw, slow}, {kw, slow}}, kw, 2},
		{"slow, disagreeing, then agreeing", []run{{text, slow}, {kw, slow}, {kw, slow}}, kw, 3},
		{"never agreeing", []run{{text, slow}, {kw, slow}, {other, slow}, {text, slow}, {kw, slow}, {other, slow}}, kw, maxLexAttempts},
	} {
		calls := 0
		got, err := stableTokens(func() ([]chroma.Token, time.Duration, error) {
			r := tc.runs[calls]
			calls++
			return r.tokens, r.took, nil
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(got, tc.want) || calls != tc.calls {
			t.Errorf("%s: %v after %d tokenisations, want %v after %d", tc.name, got, calls, tc.want, tc.calls)
		}
	}
}
