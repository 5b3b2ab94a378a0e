package site

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Paths returns the URL paths of all files, sorted.
func (s *Site) Paths() []string {
	out := make([]string, 0, len(s.Files))
	for p := range s.Files {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Changed lists the URL paths whose content differs between old and s,
// including files added or removed, sorted. A nil old means everything
// changed. (Live reload uses this to tell which open pages to reload.)
func (s *Site) Changed(old *Site) []string {
	var out []string
	for p, f := range s.Files {
		if old == nil {
			out = append(out, p)
			continue
		}
		if o, ok := old.Files[p]; !ok || !bytes.Equal(o.Body, f.Body) {
			out = append(out, p)
		}
	}
	if old != nil {
		for p := range old.Files {
			if _, ok := s.Files[p]; !ok {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Lookup finds the file served at an URL path: "/x/" and "/x" serve
// "/x/index.html".
func (s *Site) Lookup(urlPath string) (*File, bool) {
	clean := path.Clean("/" + urlPath)
	if f, ok := s.Files[clean]; ok && !strings.HasSuffix(urlPath, "/") {
		return f, true
	}
	f, ok := s.Files[strings.TrimSuffix(clean, "/")+"/index.html"]
	return f, ok
}

// needsSlash reports whether urlPath names a folder without its final
// slash ("/gather"): it is redirected to "/gather/" so that relative URLs
// resolve the same way as on the published site.
func (s *Site) needsSlash(urlPath string) bool {
	clean := path.Clean("/" + urlPath)
	if _, ok := s.Files[clean]; ok || strings.HasSuffix(urlPath, "/") {
		return false
	}
	_, ok := s.Files[strings.TrimSuffix(clean, "/")+"/index.html"]
	return ok
}

// ContentType is the MIME type a file is served with.
func ContentType(urlPath string) string {
	switch path.Ext(urlPath) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".xml":
		return "application/xml; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(urlPath)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// Handler serves the site from memory: "/x/" is x/index.html, unknown
// paths get the 404 page with status 404, fingerprinted assets are
// cacheable forever.
func (s *Site) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if s.needsSlash(r.URL.Path) {
			http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
			return
		}
		f, ok := s.Lookup(r.URL.Path)
		status := http.StatusOK
		if !ok {
			status = http.StatusNotFound
			if f, ok = s.Files["/404.html"]; !ok {
				http.NotFound(w, r)
				return
			}
		}
		h := w.Header()
		h.Set("Content-Type", ContentType(f.Path))
		h.Set("X-Content-Type-Options", "nosniff")
		body, etagSuffix := f.Body, ""
		if gz := f.Gzip(); gz != nil {
			// The precompressed copy, when the client takes it.
			h.Set("Vary", "Accept-Encoding")
			if acceptsGzip(r.Header.Get("Accept-Encoding")) {
				h.Set("Content-Encoding", "gzip")
				body, etagSuffix = gz, "-gz"
			}
		}
		if strings.HasPrefix(f.Path, "/assets/") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		h.Set("ETag", `"`+f.Hash()[:16]+etagSuffix+`"`)
		if status == http.StatusOK {
			// ServeContent answers If-None-Match (lists, weak forms), Range
			// and HEAD from the ETag set above. It leaves the length of an
			// encoded body unset, so it is set here, and ranges of the
			// compressed copy are not offered.
			if h.Get("Content-Encoding") != "" {
				h.Set("Content-Length", strconv.Itoa(len(body)))
				if r.Header.Get("Range") != "" {
					r2 := *r
					r2.Header = r.Header.Clone()
					r2.Header.Del("Range")
					r = &r2
				}
			}
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	})
}

// WriteDir writes the site into dir without ever leaving dir half
// written: it makes a staging folder next to dir (".NAME.staging") hold
// exactly the site, then swaps the two in one atomic rename. A failed write
// leaves dir as it was. Another build writing into dir (WriteDir or
// BuildTo, in this process or another) is waited for (see lockOutput).
//
// The staging folder is kept: after the swap it holds the previous output
// and becomes the next write's starting point, so folders are not made
// again and files whose bytes did not change are not rewritten (on a busy
// disk, those system calls are most of a build's time).
func (s *Site) WriteDir(dir string) error {
	if s.streamed {
		return errors.New("write site: the site was written by BuildTo, which keeps no page")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	if err := checkReplaceable(dir); err != nil {
		return err
	}
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	unlock, err := lockOutput(context.Background(), dir, nil)
	if err != nil {
		return err
	}
	defer unlock()
	staging := filepath.Join(parent, "."+base+".staging")
	if err := s.syncDir(staging); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	return swapDir(staging, dir)
}

// checkReplaceable refuses to replace a folder that is not a site's output
// (say, the project itself after a mistyped --out): whatever it holds would
// be swapped out and later pruned.
func checkReplaceable(dir string) error {
	if dir == filepath.Dir(dir) {
		return fmt.Errorf("write site: refusing to replace %s", dir)
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	// A built site has an index page and a robots.txt (older builds: a
	// sitemap; a build without a base URL writes no sitemap).
	_, errIndex := os.Stat(filepath.Join(dir, "index.html"))
	_, errRobots := os.Stat(filepath.Join(dir, "robots.txt"))
	_, errSitemap := os.Stat(filepath.Join(dir, "sitemap.xml"))
	if errIndex != nil || (errRobots != nil && errSitemap != nil) {
		return fmt.Errorf("write site: refusing to replace %s: it is not empty and does not look like a built site (no index.html, or neither robots.txt nor sitemap.xml); remove it or choose another output folder", dir)
	}
	return nil
}

// syncDir makes dir hold exactly the site's files: it writes the files
// whose content differs, in parallel, and removes what is not part of the
// site.
func (s *Site) syncDir(dir string) error {
	w, err := newDirWriter(dir)
	if err != nil {
		return err
	}
	if err := w.writeFiles(s); err != nil {
		return err
	}
	return w.finish()
}

// swapDir puts the folder staged in the place of dir; the previous dir, if
// any, becomes the staging folder.
func swapDir(staged, dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(staged, dir); err != nil {
			return fmt.Errorf("write site: %w", err)
		}
		return nil
	}
	if exchange(staged, dir) == nil {
		return nil
	}
	// No atomic exchange here: three renames, dir missing for an instant.
	old := staged + ".old"
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	if err := os.Rename(dir, old); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	if err := os.Rename(staged, dir); err != nil {
		_ = os.Rename(old, dir) // put the previous site back
		return fmt.Errorf("write site: %w", err)
	}
	if err := os.Rename(old, staged); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	return nil
}
