package devserver

import (
	"slices"
	"testing"
	"time"

	"playdoc/site"
	"playdoc/snippet"
)

func snippetSite(codes ...string) *site.Site {
	s := &site.Site{}
	for i, c := range codes {
		s.Snippets = append(s.Snippets, snippet.Snippet{File: "01-one.md", Name: string(rune('a' + i)), Code: c})
	}
	return s
}

func TestRewarmerWarmsLatestCodeOnce(t *testing.T) {
	got := make(chan []string, 4)
	r := NewRewarmer(30*time.Millisecond, func(codes []string) { got <- codes })
	defer r.Stop()
	r.OnBuild(nil, snippetSite("a0", "b0")) // the first build: the playground warmed it
	// Two saves of snippet a while typing, then one of snippet b.
	r.OnBuild(snippetSite("a0", "b0"), snippetSite("a1", "b0"))
	r.OnBuild(snippetSite("a1", "b0"), snippetSite("a2", "b0"))
	r.OnBuild(snippetSite("a2", "b0"), snippetSite("a2", "b1"))
	r.OnBuild(snippetSite("a2", "b1"), snippetSite("a2", "b1")) // nothing new
	select {
	case codes := <-got:
		if !slices.Equal(codes, []string{"a2", "b1"}) {
			t.Errorf("warmed %q, want the latest code of a and b: [a2 b1]", codes)
		}
	case <-time.After(eventWait):
		t.Fatal("nothing warmed")
	}
	select {
	case codes := <-got:
		t.Errorf("warmed again: %q", codes)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestRewarmerStop(t *testing.T) {
	got := make(chan []string, 1)
	r := NewRewarmer(20*time.Millisecond, func(codes []string) { got <- codes })
	r.OnBuild(snippetSite("a0"), snippetSite("a1"))
	r.Stop()
	r.OnBuild(snippetSite("a1"), snippetSite("a2"))
	select {
	case codes := <-got:
		t.Errorf("warmed %q after Stop", codes)
	case <-time.After(100 * time.Millisecond):
	}
}
