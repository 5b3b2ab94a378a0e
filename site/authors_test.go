package site

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"playdoc/internal/txtarfs"
)

// TestAuthors builds each site of testdata/authors/*.txtar: pages written
// the way authors write them (encodings, every kind of link, raw HTML,
// images and files beside the pages).
func TestAuthors(t *testing.T) { testArchives(t, "testdata/authors") }

// TestContentErrors builds each site of testdata/errors/*.txtar: each kind
// of content mistake is reported as file:line: message, all of them at
// once, in order.
func TestContentErrors(t *testing.T) { testArchives(t, "testdata/errors") }

// testArchives builds the site of each archive of dir and checks either
// its exact file:line errors or what its files contain; a site that builds
// must also pass the HTML structure checks.
func testArchives(t *testing.T, dir string) {
	archives, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil || len(archives) == 0 {
		t.Fatalf("no archives: %v", err)
	}
	for _, name := range archives {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".txtar"), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			content, want, err := txtarfs.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			cfg := fixtureConfig()
			cfg.Content = content
			s, err := New(cfg).Build(context.Background())
			if wantErrs, ok := want["want/errors"]; ok {
				var list ErrorList
				if !errors.As(err, &list) {
					t.Fatalf("err = %v, want an ErrorList", err)
				}
				if got, want := list.Error(), strings.TrimSpace(wantErrs); got != want {
					t.Errorf("errors:\n%s\nwant:\n%s", got, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			checkSiteHTML(t, s)
			for key, lines := range want {
				neg := strings.HasPrefix(key, "notwant/")
				p := "/" + strings.TrimPrefix(strings.TrimPrefix(key, "notwant/"), "want/")
				f, ok := s.Files[p]
				if !ok {
					t.Errorf("no file %s; files: %v", p, s.Paths())
					continue
				}
				for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
					if l = strings.TrimSpace(l); l == "" {
						continue
					}
					if has := bytes.Contains(f.Body, []byte(l)); has == neg {
						t.Errorf("%s: contains %q = %v, want %v", p, l, has, !neg)
					}
				}
			}
		})
	}
}
