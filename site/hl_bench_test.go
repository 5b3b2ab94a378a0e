package site

import (
	"testing"

	"playdoc/site/corpus"
)

func BenchmarkHighlightGo(b *testing.B) {
	h := newHighlighter("")
	code := corpus.Program(7, 0)
	for b.Loop() {
		if _, err := h.highlight("go", code); err != nil {
			b.Fatal(err)
		}
	}
}
