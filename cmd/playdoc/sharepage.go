package main

import (
	"bytes"
	"log/slog"
	"net/http"

	"playdoc/devserver"
	"playdoc/playground"
	"playdoc/share"
	"playdoc/site"
)

// sharePage renders a shared snippet's page (/p/ID) in the look of the
// site that current returns (nil while none is built), with the site's CSP.
func sharePage(log *slog.Logger, current func() *site.Site) playground.SharePageFunc {
	return func(w http.ResponseWriter, r *http.Request, sn *share.Snippet) {
		s := current()
		if s == nil {
			http.Error(w, "The site is not built yet; try again in a moment.", http.StatusServiceUnavailable)
			return
		}
		var sh *site.Shared
		if sn != nil {
			sh = &site.Shared{ID: sn.ID, Code: sn.Body, Origin: sn.Origin}
		}
		var buf bytes.Buffer
		if err := s.WriteShared(r.Context(), &buf, sh); err != nil {
			log.Error("playground: shared snippet page", "err", err)
			http.Error(w, "The page cannot be shown.", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", devserver.CSP)
		h.Set("Cache-Control", "no-cache") // the code never changes, the page around it may
		if sn == nil {
			w.WriteHeader(http.StatusNotFound)
		}
		_, _ = w.Write(buf.Bytes())
	}
}
