package playground

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func counterValue(t testing.TB, s *Server, name string) float64 {
	t.Helper()
	mfs, err := s.m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no counter %s", name)
	return 0
}

func TestFmt(t *testing.T) {
	_, _, ts := newFakeServer(t, nil)
	for _, path := range []string{"/fmt", "/api/fmt"} {
		var r fmtResponse
		resp, err := http.PostForm(ts.URL+path, url.Values{"body": {"package main\nfunc main(){\nx:=1\n_=x}"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := jsonDecode(resp, &r); err != nil {
			t.Fatal(err)
		}
		if r.Error != "" || r.Body != "package main\n\nfunc main() {\n\tx := 1\n\t_ = x\n}\n" {
			t.Errorf("%s: %+v", path, r)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s lacks CORS", path)
		}
	}
	var r fmtResponse
	resp, _ := http.PostForm(ts.URL+"/fmt", url.Values{"body": {"package main\n\nfunc main() { fmt.Println(strings.ToUpper(\"x\")) }\n"}, "imports": {"true"}})
	_ = jsonDecode(resp, &r)
	if r.Error != "" || !strings.Contains(r.Body, "\"fmt\"") || !strings.Contains(r.Body, "\"strings\"") {
		t.Errorf("imports: %+v", r)
	}
	resp, _ = http.PostForm(ts.URL+"/fmt", url.Values{"body": {"package main\n\nfunc main() {\n"}})
	r = fmtResponse{}
	_ = jsonDecode(resp, &r)
	if r.Body != "" || !strings.HasPrefix(r.Error, "prog.go:3:") {
		t.Errorf("syntax error: %+v", r)
	}
}

func TestVersionHealthMetrics(t *testing.T) {
	s, _, ts := newFakeServer(t, nil)
	var v versionResponse
	resp := getJSON(t, ts.URL+"/version", &v)
	if !strings.HasPrefix(v.Version, "go1.") || !strings.HasPrefix(v.Version, v.Release) || v.Name != "Go "+strings.TrimPrefix(v.Release, "go") {
		t.Errorf("version = %+v", v)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("/version lacks CORS")
	}
	if got := versionOf("go1.26.8"); got != (versionResponse{"go1.26.8", "go1.26", "Go 1.26"}) {
		t.Errorf("versionOf = %+v", got)
	}

	runCode(t, ts.URL, prog("out stdout 0s x"))
	runCode(t, ts.URL, prog("out stdout 0s x"))
	runCode(t, ts.URL, prog("compile-error 1:1 nope"))
	var h healthResponse
	if resp := getJSON(t, ts.URL+"/healthz", &h); resp.StatusCode != 200 {
		t.Errorf("healthz: %s", resp.Status)
	}
	if !h.OK || !h.Ready || h.Running != 0 || h.Queued != 0 || h.CacheEntries != 2 {
		t.Errorf("healthz = %+v", h)
	}
	mresp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{
		`playdoc_runs_total{outcome="ok"} 2`,
		`playdoc_runs_total{outcome="compile-error"} 1`,
		"playdoc_cache_hits_total 1",
		"playdoc_cache_misses_total 2",
		"playdoc_compile_duration_seconds_count 2",
		"playdoc_run_duration_seconds_count 2",
		"playdoc_queue_depth 0",
		"playdoc_sandbox_failures_total 0",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	_ = s
	// Method and route errors are plain HTTP.
	resp2, _ := http.Get(ts.URL + "/api/run")
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /api/run: %s", resp2.Status)
	}
}

func jsonDecode(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
