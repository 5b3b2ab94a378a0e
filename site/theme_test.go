package site

import (
	"strings"
	"testing"
)

func TestThemeable(t *testing.T) {
	css := `a { color: red; }
@media (prefers-color-scheme: dark) {
	/* vars */
	:root { --bg: #000; }
	.chroma .k, pre { color: #fff; }
}
@media (min-width: 900px) { b { x: y; } }
`
	got := themeable(css)
	for _, w := range []string{
		"a { color: red; }",
		`@media (prefers-color-scheme: dark) {` + "\n" + `:root:not([data-theme="light"]) { --bg: #000; }`,
		`:root:not([data-theme="light"]) .chroma .k, :root:not([data-theme="light"]) pre { color: #fff; }`,
		`:root[data-theme="dark"] { --bg: #000; }`,
		`:root[data-theme="dark"] .chroma .k, :root[data-theme="dark"] pre { color: #fff; }`,
		"@media (min-width: 900px) { b { x: y; } }",
		`:root[data-theme="dark"] { color-scheme: dark; }`,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("themeable output lacks %q:\n%s", w, got)
		}
	}
	if strings.Count(got, "@media (prefers-color-scheme: dark)") != 1 {
		t.Errorf("the media block is not kept once:\n%s", got)
	}
}
