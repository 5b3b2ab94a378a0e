package site

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/tools/txtar"
)

// txtarContent turns an archive into a content folder. Its files are
// taken as they are, except:
//   - "want/errors" (every error of the build, in order, one per line) and
//     "want/PATH" / "notwant/PATH" (lines that the built file at URL path
//     /PATH must, or must not, contain), which are expectations;
//   - a file whose text is "@png WxH" becomes a PNG image of that size;
//   - "\r\n" written as the two characters "\r" at a line's end becomes a
//     CR, and "\ufeff" at a file's start a byte order mark, so that the
//     archive stays plain text.
func txtarContent(t *testing.T, data []byte) (fstest.MapFS, map[string]string) {
	t.Helper()
	ar := txtar.Parse(data)
	fsys := fstest.MapFS{}
	want := map[string]string{}
	for _, f := range ar.Files {
		if strings.HasPrefix(f.Name, "want/") || strings.HasPrefix(f.Name, "notwant/") {
			want[f.Name] = string(f.Data)
			continue
		}
		body := f.Data
		var w, h int
		if n, _ := fmt.Sscanf(string(body), "@png %dx%d", &w, &h); n == 2 {
			var buf bytes.Buffer
			if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
				t.Fatal(err)
			}
			body = buf.Bytes()
		}
		body = bytes.ReplaceAll(body, []byte(`\r`+"\n"), []byte("\r\n"))
		if rest, ok := bytes.CutPrefix(body, []byte(`\ufeff`)); ok {
			body = append([]byte("\xef\xbb\xbf"), rest...)
		}
		fsys[f.Name] = &fstest.MapFile{Data: body}
	}
	return fsys, want
}

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
			content, want := txtarContent(t, data)
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
