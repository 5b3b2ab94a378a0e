package site

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestHandlerConditionalGET checks the conditional and partial requests
// that http.ServeContent answers: an ETag in a list or in its weak form is
// a match (304), a stale one is not, and a byte range of a page is served.
func TestHandlerConditionalGET(t *testing.T) {
	s, err := New(fixtureConfig()).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	get := func(hdr map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/pairs/", nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	etag := get(nil).Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on a page")
	}
	for _, tt := range []struct {
		name   string
		hdr    map[string]string
		status int
	}{
		{"exact", map[string]string{"If-None-Match": etag}, http.StatusNotModified},
		{"in a list", map[string]string{"If-None-Match": `"0000", ` + etag}, http.StatusNotModified},
		{"weak form", map[string]string{"If-None-Match": "W/" + etag}, http.StatusNotModified},
		{"any", map[string]string{"If-None-Match": "*"}, http.StatusNotModified},
		{"stale", map[string]string{"If-None-Match": `"0000"`}, http.StatusOK},
		{"range", map[string]string{"Range": "bytes=0-14"}, http.StatusPartialContent},
		{"range, gzip: whole body", map[string]string{"Range": "bytes=0-14", "Accept-Encoding": "gzip"}, http.StatusOK},
	} {
		rec := get(tt.hdr)
		if rec.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, rec.Code, tt.status)
		}
		if tt.status == http.StatusPartialContent && rec.Body.String() != "<!doctype html>" {
			t.Errorf("%s: body %q", tt.name, rec.Body.String())
		}
	}
	// The 404 page is never a 304: its ETag names the page, not the URL.
	req := httptest.NewRequest(http.MethodGet, "/nope/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("conditional 404: status %d", rec.Code)
	}
}
