package playground

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// MaxShareSize bounds one shared snippet, as the Go playground does.
const MaxShareSize = 64 << 10

// shareSalt is hashed before the body, so that ids are the Go
// playground's: a snippet shared here has the id it would have there.
const shareSalt = "Go playground salt\n"

// shareIDRE matches the ids ShareID makes; anything else is not looked up.
var shareIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{11,44}$`)

// ShareID is the content address of a snippet: the URL-safe base64 of
// its salted sha256, 11 characters (more if they end with '_', which
// some sites leave out of a link).
func ShareID(body []byte) string {
	h := sha256.New()
	h.Write([]byte(shareSalt))
	h.Write(body)
	b := base64.URLEncoding.EncodeToString(h.Sum(nil))
	n := 11
	for n < len(b) && b[n-1] == '_' {
		n++
	}
	return b[:n]
}

// shareStore keeps shared snippets on disk, one file per id, within a
// total size: when a new snippet does not fit, the least recently shared
// ones are removed.
type shareStore struct {
	dir   string
	max   int64
	mu    sync.Mutex
	total int64
	ents  map[string]shareEntry
}

type shareEntry struct {
	size int64 // bytes charged: at least one file system block
	at   time.Time
}

// shareCost is what a snippet counts against the total: small files
// still take a block, so a flood of tiny snippets is bounded too.
func shareCost(n int) int64 { return max(int64(n), 4096) }

// errShareNotFound is a lookup of an id that is not (or no longer) stored.
var errShareNotFound = errors.New("snippet not found")

// newShareStore opens (creating) dir and indexes the snippets in it.
func newShareStore(dir string, maxBytes int64) (*shareStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create share dir: %w", err)
	}
	st := &shareStore{dir: dir, max: maxBytes, ents: map[string]shareEntry{}}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read share dir: %w", err)
	}
	for _, de := range des {
		name := de.Name()
		id, ok := strings.CutSuffix(name, ".go")
		if !ok || !shareIDRE.MatchString(id) {
			_ = os.Remove(filepath.Join(dir, name)) // a temp file left by a crash
			continue
		}
		fi, err := de.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		e := shareEntry{size: shareCost(int(fi.Size())), at: fi.ModTime()}
		st.ents[id] = e
		st.total += e.size
	}
	st.mu.Lock()
	st.evict(0)
	st.mu.Unlock()
	return st, nil
}

// put stores body and returns its id.
func (st *shareStore) put(body []byte) (string, error) {
	if len(body) > MaxShareSize {
		return "", fmt.Errorf("snippet is %d bytes, the limit is %d", len(body), MaxShareSize)
	}
	id := ShareID(body)
	path := filepath.Join(st.dir, id+".go")
	st.mu.Lock()
	defer st.mu.Unlock()
	now := time.Now()
	if e, ok := st.ents[id]; ok {
		// Shared again: the same content, now the most recent.
		e.at = now
		st.ents[id] = e
		_ = os.Chtimes(path, now, now)
		return id, nil
	}
	cost := shareCost(len(body))
	st.evict(cost)
	tmp, err := os.CreateTemp(st.dir, "tmp-")
	if err != nil {
		return "", fmt.Errorf("store snippet: %w", err)
	}
	_, err = tmp.Write(body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("store snippet: %w", err)
	}
	st.ents[id] = shareEntry{size: cost, at: now}
	st.total += cost
	return id, nil
}

// evict removes the oldest snippets until room more bytes fit; st.mu held.
func (st *shareStore) evict(room int64) {
	if st.total+room <= st.max {
		return
	}
	ids := make([]string, 0, len(st.ents))
	for id := range st.ents {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return st.ents[ids[i]].at.Before(st.ents[ids[j]].at) })
	for _, id := range ids {
		if st.total+room <= st.max {
			return
		}
		_ = os.Remove(filepath.Join(st.dir, id+".go"))
		st.total -= st.ents[id].size
		delete(st.ents, id)
	}
}

// get returns the snippet stored under id.
func (st *shareStore) get(id string) ([]byte, error) {
	if !shareIDRE.MatchString(id) {
		return nil, errShareNotFound
	}
	st.mu.Lock()
	_, ok := st.ents[id]
	st.mu.Unlock()
	if !ok {
		return nil, errShareNotFound
	}
	b, err := os.ReadFile(filepath.Join(st.dir, id+".go"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errShareNotFound
	}
	return b, err
}

// stats reports the number of snippets and the bytes charged for them.
func (st *shareStore) stats() (int, int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.ents), st.total
}

// handleShare is POST /share: the raw request body is the snippet; the
// answer is its id, as plain text (the Go playground's protocol).
func (s *Server) handleShare(w http.ResponseWriter, r *http.Request) {
	if !s.allow(w, clientIP(r)) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxShareSize+1))
	if err != nil {
		httpError(w, http.StatusBadRequest, "read the snippet: "+err.Error())
		return
	}
	if len(body) > MaxShareSize {
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("snippet is too large: the limit is %d KiB", MaxShareSize>>10))
		return
	}
	id, err := s.shares.put(body)
	if err != nil {
		s.log.Error("playground: share", "err", err)
		httpError(w, http.StatusInternalServerError, "could not store the snippet")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, id)
}

// handleSnippet is GET /p/{id}.go (the source as text; ?download=true
// as an attachment) and GET /p/{id} (a page showing it).
func (s *Server) handleSnippet(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	raw := false
	if base, ok := strings.CutSuffix(id, ".go"); ok {
		id, raw = base, true
	}
	body, err := s.shares.get(id)
	if err != nil {
		if !errors.Is(err, errShareNotFound) {
			s.log.Error("playground: read snippet", "id", id, "err", err)
		}
		http.Error(w, "Snippet not found", http.StatusNotFound)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if raw {
		if r.FormValue("download") == "true" {
			w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.go"`, id))
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(body)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_ = snippetPage.Execute(w, struct{ ID, Body string }{id, string(body)})
}

// snippetPage shows a shared snippet; the editor is the site's, this is
// only so that a /p/ link opened in a browser shows the code.
var snippetPage = template.Must(template.New("p").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Snippet {{.ID}}</title>
<style>body{font-family:sans-serif;margin:2rem}pre{background:#f6f6f6;padding:1rem;overflow:auto}</style>
</head><body><h1>Snippet {{.ID}}</h1>
<p><a href="{{.ID}}.go">{{.ID}}.go</a> · <a href="{{.ID}}.go?download=true">download</a></p>
<pre><code>{{.Body}}</code></pre>
</body></html>
`))
