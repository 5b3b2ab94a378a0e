package site

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// TestBuildToMatchesWriteDir checks that the streamed build writes the
// same files as Build and WriteDir, over an earlier output (reused
// staging folder, a stale file), that its Site cannot be written again,
// and that a build with a content error leaves the output as it was.
func TestBuildToMatchesWriteDir(t *testing.T) {
	tmp := t.TempDir()
	want := filepath.Join(tmp, "want")
	s, err := New(fixtureConfig()).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteDir(want); err != nil {
		t.Fatal(err)
	}
	wantTree := readTree(t, want)

	got := filepath.Join(tmp, "got")
	for round := range 4 {
		b := New(fixtureConfig())
		streamed, err := b.BuildTo(context.Background(), got)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if gotTree := readTree(t, got); !maps.Equal(gotTree, wantTree) {
			for p := range wantTree {
				if gotTree[p] != wantTree[p] {
					t.Errorf("round %d: %s differs (%d bytes, want %d)", round, p, len(gotTree[p]), len(wantTree[p]))
				}
			}
			for p := range gotTree {
				if _, ok := wantTree[p]; !ok {
					t.Errorf("round %d: %s should not be there", round, p)
				}
			}
		}
		if len(streamed.Files) != len(s.Files) || len(streamed.Pages) != len(s.Pages) {
			t.Errorf("round %d: the streamed site lists %d files and %d pages, want %d and %d", round, len(streamed.Files), len(streamed.Pages), len(s.Files), len(s.Pages))
		}
		if err := streamed.WriteDir(filepath.Join(tmp, "again")); err == nil {
			t.Errorf("round %d: a streamed site was written again", round)
		}
		if err := b.SaveCache(streamed); err != nil {
			t.Errorf("round %d: SaveCache: %v", round, err)
		}
		// A stale file in the output: it becomes the staging folder of the
		// next round but one, which must remove it.
		if err := os.WriteFile(filepath.Join(got, "stale.html"), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	before := readTree(t, got)
	bad := fixtureConfig()
	bad.Content = fstest.MapFS{"01-broken.md": {Data: []byte("---\ntitle: Broken\n---\n\n[a link](02-missing.md)\n")}}
	if _, err := New(bad).BuildTo(context.Background(), got); err == nil {
		t.Fatal("a broken link was built")
	}
	if gotTree := readTree(t, got); !maps.Equal(gotTree, before) {
		t.Error("a failed build changed the output")
	}
}
