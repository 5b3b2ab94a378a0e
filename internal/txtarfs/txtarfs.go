// Package txtarfs turns a txtar archive into a content folder for tests,
// so that a test's pages are plain text whose line numbers can be read off
// the archive (site/testdata/authors, site/testdata/errors).
package txtarfs

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"strings"
	"testing/fstest"

	"golang.org/x/tools/txtar"
)

// Parse returns the files of a txtar archive as a file system, and its
// expectations apart. Files are taken as they are, except:
//   - files under "want/" and "notwant/" are expectations, returned by name
//     and left out of the file system;
//   - a file whose text is "@png WxH" becomes a PNG image of W×H pixels;
//   - a line ending in the two characters `\r` ends in a CR LF, and a file
//     starting with the six characters `\ufeff` starts with a byte order
//     mark, so that the archive itself stays plain text.
//
// It fails only when an image cannot be made.
func Parse(data []byte) (fstest.MapFS, map[string]string, error) {
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
			var err error
			if body, err = PNG(w, h); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", f.Name, err)
			}
		}
		body = bytes.ReplaceAll(body, []byte(`\r`+"\n"), []byte("\r\n"))
		if rest, ok := bytes.CutPrefix(body, []byte(`\ufeff`)); ok {
			body = append([]byte("\xef\xbb\xbf"), rest...)
		}
		fsys[f.Name] = &fstest.MapFile{Data: body}
	}
	return fsys, want, nil
}

// PNG is a blank PNG image of w×h pixels.
func PNG(w, h int) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
