package playground

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// share posts body to /share as the Go playground's page does (raw
// text, not a form) and returns the answer.
func share(t *testing.T, base, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/share", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestShareIDIsTheGoPlaygrounds(t *testing.T) {
	// The id go.dev/play gives a snippet is base64url(sha256(salt+body))
	// cut to 11 characters (values computed with Python's hashlib), and
	// the trailing '_' rule.
	for body, want := range map[string]string{"": "UCPdVNrl0-P", "package main\n": "z3xP5obroah"} {
		if got := ShareID([]byte(body)); got != want {
			t.Errorf("ShareID(%q) = %q, want %q", body, got, want)
		}
	}
	for _, body := range []string{"", "package main\n", strings.Repeat("x", 1000)} {
		id := ShareID([]byte(body))
		if len(id) < 11 || !shareIDRE.MatchString(id) || strings.HasSuffix(id, "_") {
			t.Errorf("ShareID(%q) = %q", body, id)
		}
		if ShareID([]byte(body)) != id || ShareID([]byte(body+" ")) == id {
			t.Errorf("ShareID(%q) is not a content address", body)
		}
	}
	// A body whose 11th character is '_' gets a longer id.
	found := false
	for i := 0; i < 5000 && !found; i++ {
		body := []byte(strings.Repeat("y", i))
		id := ShareID(body)
		if len(id) > 11 {
			found = true
			if id[10] != '_' || strings.HasSuffix(id, "_") {
				t.Errorf("long id %q", id)
			}
		}
	}
	if !found {
		t.Error("no id longer than 11 characters in 5000 bodies (1/64 expected)")
	}
}

func TestShareRoundTrip(t *testing.T) {
	_, _, ts := newFakeServer(t, nil)
	src := "package main\n\nfunc main() { println(\"<b>hi</b>\") }\n"
	resp, id := share(t, ts.URL, src)
	if resp.StatusCode != 200 || id != ShareID([]byte(src)) || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("share: %s %q %v", resp.Status, id, resp.Header)
	}
	if _, again := share(t, ts.URL, src); again != id {
		t.Errorf("sharing again gave %q, want %q", again, id)
	}
	resp, body := get(t, ts.URL+"/p/"+id+".go")
	if resp.StatusCode != 200 || body != src || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("GET /p/%s.go: %s %q %v", id, resp.Status, body, resp.Header)
	}
	resp, _ = get(t, ts.URL+"/p/"+id+".go?download=true")
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="`+id+`.go"` {
		t.Errorf("download: Content-Disposition %q", cd)
	}
	resp, body = get(t, ts.URL+"/p/"+id)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "&lt;b&gt;hi&lt;/b&gt;") || strings.Contains(body, "<b>hi</b>") {
		t.Errorf("GET /p/%s: %s %q", id, resp.Status, body)
	}
	for _, bad := range []string{"nope", "AAAAAAAAAAA", "AAAAAAAAAAA.go", "..%2f..%2fetc%2fpasswd", "%2e%2e"} {
		if resp, _ := get(t, ts.URL+"/p/"+bad); resp.StatusCode != 404 {
			t.Errorf("GET /p/%s: %s, want 404", bad, resp.Status)
		}
	}
	// Too large: 413, like the Go playground; nothing stored.
	if resp, _ := share(t, ts.URL, strings.Repeat("x", MaxShareSize+1)); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized share: %s", resp.Status)
	}
	if resp, _ := share(t, ts.URL, strings.Repeat("x", MaxShareSize)); resp.StatusCode != 200 {
		t.Errorf("share of exactly the limit: %s", resp.Status)
	}
}

func TestShareStoreEvictsOldestAndReloads(t *testing.T) {
	dir := t.TempDir()
	st, err := newShareStore(dir, 3*8192)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 4 {
		id, err := st.put([]byte(strings.Repeat(string(rune('a'+i)), 8192)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		time.Sleep(10 * time.Millisecond) // distinct times
	}
	if _, err := st.get(ids[0]); err == nil {
		t.Error("the oldest snippet was kept past the bound")
	}
	for _, id := range ids[1:] {
		if _, err := st.get(id); err != nil {
			t.Errorf("get %s: %v", id, err)
		}
	}
	if n, total := st.stats(); n != 3 || total > 3*8192 {
		t.Errorf("stats = %d, %d", n, total)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		t.Errorf("%d files on disk, want 3", len(ents))
	}
	// Tiny snippets count as a block each: a flood of them is bounded.
	for i := range 20 {
		if _, err := st.put([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if n, total := st.stats(); total > 3*8192 || n > 6 {
		t.Errorf("after tiny snippets: %d snippets, %d bytes", n, total)
	}
	// A new store over the same dir finds them (and drops stray files).
	if err := os.WriteFile(filepath.Join(dir, "tmp-123"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	n0, _ := st.stats()
	st2, err := newShareStore(dir, 3*8192)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := st2.stats(); n != n0 {
		t.Errorf("reloaded %d snippets, want %d", n, n0)
	}
	if _, err := os.Stat(filepath.Join(dir, "tmp-123")); err == nil {
		t.Error("stray temp file kept")
	}
}

func TestShareIsRateLimited(t *testing.T) {
	_, _, ts := newFakeServer(t, func(c *Config) { c.RateLimit, c.RateBurst = 0.1, 2 })
	codes := []int{}
	for i := range 4 {
		resp, _ := share(t, ts.URL, "package main // "+string(rune('a'+i)))
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if codes[0] != 200 || codes[1] != 200 || codes[3] != 429 {
		t.Errorf("status codes %v, want 200 200 ... 429", codes)
	}
}
