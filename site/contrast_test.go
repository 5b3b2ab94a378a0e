package site

import (
	"regexp"
	"strings"
	"testing"

	"github.com/alecthomas/chroma/v2"
)

// TestThemeContrast checks every colour of the generated highlighting CSS
// against its theme's code background: WCAG AA in both themes.
func TestThemeContrast(t *testing.T) {
	css, err := themeCSS()
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(css, "@media (prefers-color-scheme: ")
	if len(parts) != 3 {
		t.Fatalf("want a light and a dark section, got %d parts", len(parts)-1)
	}
	ruleRE := regexp.MustCompile(`(?m)^/\* (\w+) \*/ ([^{]+)\{([^}]*)\}`)
	colorRE := regexp.MustCompile(`(?:^|[ ;])color: (#[0-9a-f]{6})`)
	bgRE := regexp.MustCompile(`background-color: (#[0-9a-f]{6})`)
	for _, part := range parts[1:] {
		scheme := part[:strings.Index(part, ")")]
		var bg, tint chroma.Colour
		checked := 0
		for _, m := range ruleRE.FindAllStringSubmatch(part, -1) {
			name, body := m[1], m[3]
			if name == "PreWrapper" {
				if b := bgRE.FindStringSubmatch(body); b != nil {
					bg = chroma.MustParseColour(b[1])
				}
			}
			if name == "CodeHighlight" {
				b := bgRE.FindStringSubmatch(body)
				if b == nil {
					t.Fatalf("%s: the highlighted lines' rule has no background", scheme)
				}
				tint = chroma.MustParseColour(b[1])
				continue
			}
			if name == "TextWhitespace" || strings.HasPrefix(name, "Line") || name == "Background" {
				continue
			}
			c := colorRE.FindStringSubmatch(body)
			if c == nil {
				continue
			}
			backs := []chroma.Colour{bg, tint}
			if b := bgRE.FindStringSubmatch(body); b != nil {
				backs = []chroma.Colour{chroma.MustParseColour(b[1])}
			}
			for _, against := range backs {
				if !against.IsSet() {
					t.Fatalf("%s: no background (or highlighted lines' tint) before %s", scheme, name)
				}
				checked++
				if r := contrast(chroma.MustParseColour(c[1]), against); r < minContrast {
					t.Errorf("%s theme: %s %s on %v has contrast %.2f, want >= %.1f", scheme, name, c[1], against, r, minContrast)
				}
			}
		}
		if checked < 20 {
			t.Errorf("%s theme: only %d colours checked", scheme, checked)
		}
	}
}

func TestContrastFormula(t *testing.T) {
	if r := contrast(chroma.MustParseColour("#000000"), chroma.MustParseColour("#ffffff")); r < 20.9 || r > 21.1 {
		t.Errorf("black on white = %.2f, want 21", r)
	}
	if r := contrast(chroma.MustParseColour("#777777"), chroma.MustParseColour("#ffffff")); r < 4.4 || r > 4.5 {
		t.Errorf("#777 on white = %.2f, want 4.48", r)
	}
}
