package site

import (
	"os"
	"testing"
)

func TestContentSnippetsLoad(t *testing.T) {
	sn, err := LoadSnippets(os.DirFS("../content"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sn {
		t.Logf("%s:%d %s %d lines expected, duration %v", s.File, s.Line, s.Name, len(s.Expected.Lines), s.Expected.Duration)
	}
}
