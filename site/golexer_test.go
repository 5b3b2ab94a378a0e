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
// like chroma's Go lexer (byte for byte, with every span but those around
// whitespace: the token classes formatTokens leaves unwrapped are compared
// too), on every Go block of the content and on the benchmark corpus's
// programs.
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
		got.WriteString(writeTokens(tokeniseGo(code), map[string]bool{"w": true}))
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
// HTML formatter on chroma's own tokens, for Python, Go and shell: the same
// bytes but for the spans of unstyledClasses, which formatTokens leaves out.
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
		if lang == "python" && !strings.Contains(want.String(), "&#34;") {
			t.Errorf("%s: chroma escaped no quote: the sample does not test escapeText", lang)
		}
		if lang == "go" && !strings.Contains(want.String(), `<span class="p">`) {
			t.Errorf("%s: chroma wrote no punctuation span: the sample does not test their removal", lang)
		}
		if got := formatTokens(tokens); got != unwrapUnstyled(want.String()) {
			t.Errorf("%s: formatTokens differs from chroma:\n%s", lang, firstDiff(got, unwrapUnstyled(want.String())))
		}
		if got := writeTokens(tokens, map[string]bool{"w": true}); got != unwrapWhitespace(want.String()) {
			t.Errorf("%s: writeTokens differs from chroma:\n%s", lang, firstDiff(got, unwrapWhitespace(want.String())))
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
// whitespace, and writes the quotes that chroma escapes in text as they are
// (escapeText).
func unwrapWhitespace(html string) string {
	return quoteEntities.Replace(wsSpan.ReplaceAllString(html, "$1"))
}

// quoteEntities are chroma's escaped quotes; its attributes are written
// with literal ones, so every entity is in text.
var quoteEntities = strings.NewReplacer("&#34;", `"`, "&#39;", "'")

// anySpan is one of chroma's token spans (its text has no '<': chroma
// escapes it).
var anySpan = regexp.MustCompile(`<span class="([a-z0-9]+)">([^<]*)</span>`)

// unwrapUnstyled removes chroma's spans of unstyledClasses, keeping their
// text.
func unwrapUnstyled(html string) string {
	return quoteEntities.Replace(anySpan.ReplaceAllStringFunc(html, func(s string) string {
		m := anySpan.FindStringSubmatch(s)
		if unstyledClasses[m[1]] {
			return m[2]
		}
		return s
	}))
}

// TestUnstyledClasses: the classes formatTokens leaves unwrapped are
// exactly the token classes that neither code theme styles (the CSS has
// no rule for them), and the rest have a rule in at least one.
func TestUnstyledClasses(t *testing.T) {
	themes, err := codeThemes()
	if err != nil {
		t.Fatal(err)
	}
	css, err := themeCSS()
	if err != nil {
		t.Fatal(err)
	}
	for tt, cls := range chroma.StandardTypes {
		if tt < 0 || cls == "" {
			continue // not a token: backgrounds, line numbers
		}
		styled := false
		for _, th := range themes {
			if !th.style.Get(tt).Sub(th.style.Get(chroma.Background)).IsZero() {
				styled = true
			}
		}
		if cls == "w" {
			continue // whitespace shows no colour, styled or not
		}
		if styled == unstyledClasses[cls] {
			t.Errorf("class %q (%v): styled by a theme %v, but in unstyledClasses %v", cls, tt, styled, unstyledClasses[cls])
		}
		if unstyledClasses[cls] && strings.Contains(css, ".chroma ."+cls+" ") {
			t.Errorf("class %q is in unstyledClasses, but the CSS has a rule for it", cls)
		}
	}
	if !strings.Contains(css, "color: "+lightText) {
		t.Errorf("the light theme's CSS does not set the code's text colour %s", lightText)
	}
}
