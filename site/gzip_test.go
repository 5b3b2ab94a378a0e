package site

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"":                           false,
		"gzip":                       true,
		"gzip, deflate, br, zstd":    true,
		"br;q=1.0, GZIP;q=0.5":       true,
		"deflate":                    false,
		"gzip;q=0":                   false,
		"gzip; q=0.000, deflate":     false,
		"*":                          true,
		"identity, gzipfoo, x-gzip2": false,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
}

// TestHandlerGzip: text files go out precompressed to clients that accept
// gzip, as is to the others, with Vary, a matching length and an ETag of
// their own; tiny files are never compressed.
func TestHandlerGzip(t *testing.T) {
	s, err := New(fixtureConfig()).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Files["/tiny.txt"] = &File{Path: "/tiny.txt", Body: []byte("small")}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	get := func(path, accept string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept) // set by hand: the client then leaves the body compressed
		}
		// Without the header, the transport would ask for gzip itself.
		tr := &http.Transport{DisableCompression: true}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	for _, p := range []string{"/", "/pairs/", "/nope/"} {
		plain, body := get(p, "")
		zipped, zbody := get(p, "br, gzip")
		if plain.Header.Get("Content-Encoding") != "" || zipped.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: Content-Encoding %q without gzip, %q with", p, plain.Header.Get("Content-Encoding"), zipped.Header.Get("Content-Encoding"))
		}
		if plain.StatusCode != zipped.StatusCode {
			t.Errorf("%s: status %d plain, %d gzipped", p, plain.StatusCode, zipped.StatusCode)
		}
		if zipped.Header.Get("Vary") != "Accept-Encoding" || plain.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("%s: Vary %q / %q", p, plain.Header.Get("Vary"), zipped.Header.Get("Vary"))
		}
		if n, _ := strconv.Atoi(zipped.Header.Get("Content-Length")); n != len(zbody) || len(zbody) >= len(body) {
			t.Errorf("%s: gzipped Content-Length %s, body %d bytes, plain %d", p, zipped.Header.Get("Content-Length"), len(zbody), len(body))
		}
		zr, err := gzip.NewReader(bytes.NewReader(zbody))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(unzipped, body) {
			t.Errorf("%s: the gzipped body does not decode to the plain one (%v)", p, err)
		}
		if p != "/nope/" && plain.Header.Get("ETag") == zipped.Header.Get("ETag") {
			t.Errorf("%s: the same ETag %s for both encodings", p, plain.Header.Get("ETag"))
		}
	}
	if resp, body := get("/tiny.txt", "gzip"); resp.Header.Get("Content-Encoding") != "" || string(body) != "small" {
		t.Errorf("tiny file: Content-Encoding %q, body %q", resp.Header.Get("Content-Encoding"), body)
	}
	// A conditional request with the gzip ETag is answered 304.
	resp, _ := get("/", "gzip")
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusNotModified || !strings.HasSuffix(resp.Header.Get("ETag"), `-gz"`) {
		t.Errorf("If-None-Match %s: status %d", resp.Header.Get("ETag"), r2.StatusCode)
	}
}
