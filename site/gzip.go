package site

import (
	"bytes"
	"compress/gzip"
	"path"
	"strings"
)

// gzipMin is the size below which a file is served as is: the gzip header
// and the extra round of decoding cost more than they save.
const gzipMin = 256

// compressible reports whether files of this URL path are text that gzip
// shrinks (the site's pages, styles, scripts, sitemap and icon).
func compressible(urlPath string) bool {
	switch path.Ext(urlPath) {
	case ".html", ".css", ".js", ".xml", ".svg", ".txt", ".json":
		return true
	}
	return false
}

// Gzip returns the body compressed with gzip at the best level, or nil when
// the file is not worth compressing. It is computed once, on first use, and
// kept with the file: a server compresses each file once, not per request,
// and a build that only writes files (Netlify compresses by itself) never
// pays for it.
func (f *File) Gzip() []byte {
	f.gzOnce.Do(func() {
		if len(f.Body) < gzipMin || !compressible(f.Path) {
			return
		}
		var buf bytes.Buffer
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if err != nil {
			return // only for a bad level; serve the body as is
		}
		if _, err := zw.Write(f.Body); err != nil {
			return
		}
		if err := zw.Close(); err != nil {
			return
		}
		if buf.Len() < len(f.Body) {
			f.gz = buf.Bytes()
		}
	})
	return f.gz
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip
// (listed, or "*", without q=0).
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
			return false
		}
		return true
	}
	return false
}
