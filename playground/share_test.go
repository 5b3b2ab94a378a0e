package playground

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"playdoc/share"
)

// postShare posts body to /share as the Go playground's page does (raw
// text, not a form) and returns the answer.
func postShare(t *testing.T, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
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
	// Values computed with Python's hashlib; share's tests cover the rest.
	for body, want := range map[string]string{"": "UCPdVNrl0-P", "package main\n": "z3xP5obroah"} {
		if got := ShareID([]byte(body)); got != want {
			t.Errorf("ShareID(%q) = %q, want %q", body, got, want)
		}
	}
}

func TestShareRoundTrip(t *testing.T) {
	_, _, ts := newFakeServer(t, nil)
	src := "package main\n\nfunc main() { println(\"<b>hi</b>\") }\n"
	resp, id := postShare(t, ts.URL+"/share", src)
	if resp.StatusCode != 200 || id != ShareID([]byte(src)) || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("share: %s %q %v", resp.Status, id, resp.Header)
	}
	if _, again := postShare(t, ts.URL+"/share", src); again != id {
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
	// Without a site the page is plain, escaped, and without inline style.
	resp, body = get(t, ts.URL+"/p/"+id)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "&lt;b&gt;hi&lt;/b&gt;") || strings.Contains(body, "<b>hi</b>") ||
		strings.Contains(body, "<style") || resp.Header.Get("Content-Security-Policy") != "default-src 'none'" {
		t.Errorf("GET /p/%s: %s %v %q", id, resp.Status, resp.Header, body)
	}
	for _, bad := range []string{"nope", "AAAAAAAAAAA", "AAAAAAAAAAA.go", "..%2f..%2fetc%2fpasswd", "%2e%2e"} {
		resp, body := get(t, ts.URL+"/p/"+bad)
		if resp.StatusCode != 404 {
			t.Errorf("GET /p/%s: %s, want 404", bad, resp.Status)
		}
		if bad == "AAAAAAAAAAA" && !strings.Contains(body, "Snippet not found") {
			t.Errorf("GET /p/%s: the 404 page says %q", bad, body)
		}
	}
	// Too large: 413, like the Go playground; nothing stored.
	if resp, _ := postShare(t, ts.URL+"/share", strings.Repeat("x", MaxShareSize+1)); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized share: %s", resp.Status)
	}
	if resp, _ := postShare(t, ts.URL+"/share", strings.Repeat("x", MaxShareSize)); resp.StatusCode != 200 {
		t.Errorf("share of exactly the limit: %s", resp.Status)
	}
}

// TestShareOrigin: /share?from= keeps a path on the site (for the page's
// link back), and drops anything that would lead elsewhere.
func TestShareOrigin(t *testing.T) {
	var got []*share.Snippet
	_, _, ts := newFakeServer(t, func(c *Config) {
		c.SharePage = func(w http.ResponseWriter, r *http.Request, sn *share.Snippet) {
			got = append(got, sn)
			if sn == nil {
				w.WriteHeader(http.StatusNotFound)
			}
		}
	})
	for i, tc := range []struct{ from, want string }{
		{"/gather/#snippet-gather", "/gather/#snippet-gather"},
		{"//evil.example/", ""},
		{"https://evil.example/", ""},
		{"/\\evil.example", ""},
	} {
		_, id := postShare(t, ts.URL+"/share?from="+url.QueryEscape(tc.from), "package main // "+strconv.Itoa(i))
		if resp, _ := get(t, ts.URL+"/p/"+id); resp.StatusCode != 200 {
			t.Fatalf("GET /p/%s: %s", id, resp.Status)
		}
		if sn := got[len(got)-1]; sn == nil || sn.Origin != tc.want {
			t.Errorf("from=%q: origin %+v, want %q", tc.from, sn, tc.want)
		}
	}
	if resp, _ := get(t, ts.URL+"/p/AAAAAAAAAAA"); resp.StatusCode != 404 || got[len(got)-1] != nil {
		t.Errorf("unknown id: %s, page given %+v", resp.Status, got[len(got)-1])
	}
}

func TestShareIsRateLimited(t *testing.T) {
	_, _, ts := newFakeServer(t, func(c *Config) { c.RateLimit, c.RateBurst = 0.1, 2 })
	codes := []int{}
	for i := range 4 {
		resp, _ := postShare(t, ts.URL+"/share", "package main // "+string(rune('a'+i)))
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if codes[0] != 200 || codes[1] != 200 || codes[3] != 429 {
		t.Errorf("status codes %v, want 200 200 ... 429", codes)
	}
}

// TestShareDailyQuota: a client past its daily quota gets 429 with a
// message and Retry-After; what it shared before stays readable.
func TestShareDailyQuota(t *testing.T) {
	_, _, ts := newFakeServer(t, func(c *Config) { c.ShareLimits = share.Limits{SharesPerDay: 2, BytesPerDay: -1} })
	var ids []string
	for i := range 2 {
		resp, id := postShare(t, ts.URL+"/share", "package main // "+strconv.Itoa(i))
		if resp.StatusCode != 200 {
			t.Fatalf("share %d: %s %s", i, resp.Status, id)
		}
		ids = append(ids, id)
	}
	resp, body := postShare(t, ts.URL+"/share", "package main // 3")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "daily share quota reached (2 shares per client per day)") {
		t.Fatalf("third share: %s %q", resp.Status, body)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 || s > 86400 {
		t.Errorf("Retry-After %q, want the seconds until midnight UTC", resp.Header.Get("Retry-After"))
	}
	for _, id := range ids {
		if resp, _ := get(t, ts.URL+"/p/"+id+".go"); resp.StatusCode != 200 {
			t.Errorf("GET %s after the quota: %s", id, resp.Status)
		}
	}
}

func TestQuotaKey(t *testing.T) {
	for in, want := range map[string]string{
		"1.2.3.4":              "1.2.3.4",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::9":      "2001:db8:1:2::/64",
		"weird":                "weird",
	} {
		if got := quotaKey(in); got != want {
			t.Errorf("quotaKey(%q) = %q, want %q", in, got, want)
		}
	}
}
