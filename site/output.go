package site

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"
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
		if strings.HasPrefix(f.Path, "/assets/") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
			etag := `"` + f.Hash()[:16] + `"`
			h.Set("ETag", etag)
			if status == http.StatusOK && r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		h.Set("Content-Length", fmt.Sprint(len(f.Body)))
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = w.Write(f.Body)
		}
	})
}

// WriteDir writes the site into dir. It writes a temporary folder next to
// dir and swaps it into place only once every file is written, so a failed
// write leaves the previous dir untouched.
func (s *Site) WriteDir(dir string) (err error) {
	dir = filepath.Clean(dir)
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".new-")
	if err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	// Folders first, level by level (parents before children), then the
	// files; each step in parallel: on a busy disk the system calls, not
	// the bytes, cost.
	paths := s.Paths()
	byDepth := map[int][]string{}
	seen := map[string]bool{tmp: true}
	maxDepth := 0
	for _, p := range paths {
		for d := path.Dir(p); d != "/" && !seen[d]; d = path.Dir(d) {
			seen[d] = true
			depth := strings.Count(d, "/")
			byDepth[depth] = append(byDepth[depth], d)
			maxDepth = max(maxDepth, depth)
		}
	}
	for depth := 1; depth <= maxDepth; depth++ {
		var g errgroup.Group
		g.SetLimit(2 * runtime.GOMAXPROCS(0))
		for _, d := range byDepth[depth] {
			g.Go(func() error {
				if err := os.Mkdir(filepath.Join(tmp, filepath.FromSlash(d)), 0o755); err != nil {
					return fmt.Errorf("write site: %w", err)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	var g errgroup.Group
	g.SetLimit(2 * runtime.GOMAXPROCS(0))
	for _, p := range paths {
		g.Go(func() error {
			target := filepath.Join(tmp, filepath.FromSlash(strings.TrimPrefix(p, "/")))
			if err := os.WriteFile(target, s.Files[p].Body, 0o644); err != nil {
				return fmt.Errorf("write site: %w", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return swapDir(tmp, dir)
}

// swapDir puts the folder new in the place of dir, removing the old dir.
func swapDir(newDir, dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(newDir, dir); err != nil {
			return fmt.Errorf("write site: %w", err)
		}
		return nil
	}
	if exchange(newDir, dir) == nil {
		// newDir now holds the old site.
		return removeAll(newDir)
	}
	old := newDir + ".old"
	if err := os.Rename(dir, old); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	if err := os.Rename(newDir, dir); err != nil {
		_ = os.Rename(old, dir) // put the previous site back
		return fmt.Errorf("write site: %w", err)
	}
	return removeAll(old)
}

// removeAll removes a folder, its top-level entries in parallel.
func removeAll(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("remove old site: %w", err)
	}
	var g errgroup.Group
	g.SetLimit(2 * runtime.GOMAXPROCS(0))
	for _, e := range entries {
		g.Go(func() error { return os.RemoveAll(filepath.Join(dir, e.Name())) })
	}
	if err := errors.Join(g.Wait(), os.RemoveAll(dir)); err != nil {
		return fmt.Errorf("remove old site: %w", err)
	}
	return nil
}
