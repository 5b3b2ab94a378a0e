package site

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/alecthomas/chroma/v2"
	chtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"

	"playdoc/site/corpus"
)

// TestGoLexerMatchesChroma checks that the fast Go tokeniser highlights
// like chroma's Go lexer (byte for byte, but for the whitespace spans that
// formatTokens leaves out), on every Go block of the content and on the
// benchmark corpus's programs.
func TestGoLexerMatchesChroma(t *testing.T) {
	var codes []string
	sn, err := LoadSnippets(os.DirFS("../content"))
	if err != nil {
		t.Logf("content does not load (%v); using the corpus only", err)
	}
	for _, s := range sn {
		if s.IsGo() {
			codes = append(codes, s.Code)
		}
	}
	for i := range 6 {
		codes = append(codes, corpus.Program(i, i%3))
	}
	codes = append(codes, "x := 0x1F + 07 + 1.5e3 + 2i + 'a' + `raw`\nvar a, b = a &^ b, a ^ b\n//go:build linux\n/* c */ s := []any{nil, true}\nfor range 3 { go f(); <-ch; ch <- v; x ^= 1; y |= 2 }\n")
	f := chtml.New(chtml.WithClasses(true), chtml.WithAllClasses(true), chtml.PreventSurroundingPre(true))
	for _, code := range codes {
		it, err := chroma.Coalesce(lexers.Get("go")).Tokenise(nil, code)
		if err != nil {
			t.Fatal(err)
		}
		var want, got strings.Builder
		if err := f.Format(&want, styles.Fallback, it); err != nil {
			t.Fatal(err)
		}
		got.WriteString(formatTokens(tokeniseGo(code)))
		if g, w := got.String(), unwrapWhitespace(want.String()); g != w {
			i := 0
			for i < len(g) && i < len(w) && g[i] == w[i] {
				i++
			}
			t.Errorf("highlight differs from chroma at byte %d:\n got: %s\nwant: %s", i, g[max(0, i-80):min(len(g), i+80)], w[max(0, i-80):min(len(w), i+80)])
		}
	}
}

// TestFormatTokensMatchesChroma checks the fast formatter against chroma's
// HTML formatter on chroma's own tokens, for Python and Go: the same bytes
// but for the whitespace spans, which formatTokens leaves out.
func TestFormatTokensMatchesChroma(t *testing.T) {
	samples := map[string]string{
		"python": "import asyncio\n\nasync def main() -> None:\n    # a comment <&>\n    await asyncio.sleep(1)\n    print(f\"done {x!r}\", 'q')\n\nasyncio.run(main())\n",
		"go":     corpus.Program(3, 1),
		"bash":   "go run ./cmd/playdoc build --out \"public\" && echo ok\n",
	}
	f := chtml.New(chtml.WithClasses(true), chtml.WithAllClasses(true), chtml.PreventSurroundingPre(true))
	for lang, code := range samples {
		it, err := chroma.Coalesce(lexers.Get(lang)).Tokenise(nil, code)
		if err != nil {
			t.Fatal(err)
		}
		tokens := it.Tokens()
		var want strings.Builder
		if err := f.Format(&want, styles.Fallback, chroma.Literator(tokens...)); err != nil {
			t.Fatal(err)
		}
		if lang == "go" && !strings.Contains(want.String(), `<span class="w">`) {
			t.Errorf("%s: chroma wrote no whitespace span: the sample does not test their removal", lang)
		}
		if got := formatTokens(tokens); got != unwrapWhitespace(want.String()) {
			t.Errorf("%s: formatTokens differs from chroma:\n%s", lang, firstDiff(got, want.String()))
		}
	}
}

func TestTokeniseGoKeepsText(t *testing.T) {
	for _, code := range []string{"", "package main\n", "x := \"unterminated\n", "a @ b # c\n", "/* open comment", "`raw\nmore"} {
		var b strings.Builder
		for _, tok := range tokeniseGo(code) {
			b.WriteString(tok.Value)
		}
		if b.String() != code {
			t.Errorf("tokens of %q join to %q", code, b.String())
		}
	}
}

// wsSpan is chroma's span around whitespace.
var wsSpan = regexp.MustCompile(`<span class="w">([ \t\r\n]*)</span>`)

// unwrapWhitespace removes chroma's spans around whitespace, keeping the
// whitespace.
func unwrapWhitespace(html string) string { return wsSpan.ReplaceAllString(html, "$1") }
