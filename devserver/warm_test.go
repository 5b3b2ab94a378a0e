package devserver

import (
	"slices"
	"testing"
	"testing/synctest"
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

// TestRewarmerWarmsLatestCodeOnce runs on synctest's virtual clock: the
// delay is measured from the last change, exactly.
func TestRewarmerWarmsLatestCodeOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const delay = time.Second
		var warmed [][]string
		var at []time.Duration
		start := time.Now()
		r := NewRewarmer(delay, func(codes []string) {
			warmed = append(warmed, codes)
			at = append(at, time.Since(start))
		})
		defer r.Stop()
		r.OnBuild(nil, snippetSite("a0", "b0")) // the first build: the playground warmed it
		// Two saves of snippet a while typing, 400 ms apart, then one of b.
		r.OnBuild(snippetSite("a0", "b0"), snippetSite("a1", "b0"))
		time.Sleep(400 * time.Millisecond)
		r.OnBuild(snippetSite("a1", "b0"), snippetSite("a2", "b0"))
		time.Sleep(400 * time.Millisecond)
		r.OnBuild(snippetSite("a2", "b0"), snippetSite("a2", "b1"))
		r.OnBuild(snippetSite("a2", "b1"), snippetSite("a2", "b1")) // nothing new
		time.Sleep(delay - time.Millisecond)
		synctest.Wait()
		if len(warmed) != 0 {
			t.Fatalf("warmed %q before the edits settled", warmed)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if len(warmed) != 1 || !slices.Equal(warmed[0], []string{"a2", "b1"}) {
			t.Fatalf("warmed %q, want once the latest code of a and b: [a2 b1]", warmed)
		}
		if want := 800*time.Millisecond + delay; at[0] != want {
			t.Errorf("warmed at %v, want %v (the delay after the last change)", at[0], want)
		}
	})
}

func TestRewarmerStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var warmed [][]string
		r := NewRewarmer(20*time.Millisecond, func(codes []string) { warmed = append(warmed, codes) })
		r.OnBuild(snippetSite("a0"), snippetSite("a1"))
		r.Stop()
		r.OnBuild(snippetSite("a1"), snippetSite("a2"))
		time.Sleep(time.Hour)
		synctest.Wait()
		if len(warmed) != 0 {
			t.Errorf("warmed %q after Stop", warmed)
		}
	})
}
