package playground

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"playdoc/share"
)

// MaxShareSize bounds one shared snippet, as the Go playground does.
const MaxShareSize = share.MaxSize

// ShareID is the content address of a snippet, the Go playground's id
// (see share.ID).
func ShareID(body []byte) string { return share.ID(body) }

// SharePageFunc renders the page of a shared snippet (GET /p/ID): sn is nil
// when no snippet has that id, and the page must then answer 404.
type SharePageFunc func(w http.ResponseWriter, r *http.Request, sn *share.Snippet)

// handleShare is POST /share: the raw request body is the snippet; the
// answer is its id, as plain text (the Go playground's protocol). The
// optional ?from= is the site path the code comes from (kept with it, to
// link back).
func (s *Server) handleShare(w http.ResponseWriter, r *http.Request) {
	client := s.clientIP(r)
	if !s.allow(w, client) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxShareSize+1))
	if err != nil {
		httpError(w, http.StatusBadRequest, "read the snippet: "+err.Error())
		return
	}
	if len(body) > MaxShareSize {
		httpError(w, http.StatusRequestEntityTooLarge, share.ErrTooLarge.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	id, err := s.shares.Put(ctx, quotaKey(client), body, origin(r.URL.Query().Get("from")))
	var qe *share.QuotaError
	switch {
	case errors.As(err, &qe):
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(qe.RetryAfter.Seconds()))))
		httpError(w, http.StatusTooManyRequests, qe.Error())
		return
	case err != nil:
		s.log.Error("playground: share", "err", err)
		httpError(w, http.StatusInternalServerError, "could not store the snippet")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, id)
}

// quotaKey is whom a share is charged to: the client's IP, or its /64 for
// IPv6, since one host usually holds a whole /64.
func quotaKey(ip string) string {
	a := net.ParseIP(ip)
	if a == nil || a.To4() != nil {
		return ip
	}
	return a.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// origin keeps from only if it is a path on this site ("/gather/#x"):
// never another site, so the page's back link cannot send readers away.
func origin(from string) string {
	if len(from) > 512 || !strings.HasPrefix(from, "/") || strings.HasPrefix(from, "//") ||
		strings.ContainsAny(from, "\\\x00\r\n\t") {
		return ""
	}
	return from
}

// handleSnippet is GET /p/{id}.go (the source as text; ?download=true
// as an attachment) and GET /p/{id} (the playground page showing it).
func (s *Server) handleSnippet(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	raw := false
	if base, ok := strings.CutSuffix(id, ".go"); ok {
		id, raw = base, true
	}
	sn, err := s.shares.Get(r.Context(), id)
	found := err == nil
	if err != nil && !errors.Is(err, share.ErrNotFound) {
		s.log.Error("playground: read snippet", "id", id, "err", err)
		http.Error(w, "The snippet cannot be read now; try again later.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if raw {
		if !found {
			http.Error(w, "No snippet with this id.", http.StatusNotFound)
			return
		}
		if r.FormValue("download") == "true" {
			w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.go"`, id))
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(sn.Body)
		return
	}
	var snp *share.Snippet
	if found {
		snp = &sn
	}
	if s.cfg.SharePage != nil {
		s.cfg.SharePage(w, r, snp)
		return
	}
	// No site to render it in: a plain page, still without inline style.
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	if !found {
		w.WriteHeader(http.StatusNotFound)
		_ = plainSnippetPage.Execute(w, struct{ ID, Body string }{id, ""})
		return
	}
	_ = plainSnippetPage.Execute(w, struct{ ID, Body string }{id, string(sn.Body)})
}

// plainSnippetPage shows a shared snippet when the server has no site
// (Config.SharePage unset).
var plainSnippetPage = template.Must(template.New("p").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Snippet {{.ID}}</title></head><body>
{{if .Body}}<h1>Snippet {{.ID}}</h1>
<p><a href="{{.ID}}.go">{{.ID}}.go</a> · <a href="{{.ID}}.go?download=true">download</a></p>
<pre><code>{{.Body}}</code></pre>{{else}}<h1>Snippet not found</h1>
<p>No snippet has the id {{.ID}}: check the link.</p>{{end}}
</body></html>
`))
