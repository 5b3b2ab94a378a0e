package playground

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func postCompile(t *testing.T, base string, form map[string]string) compileResponse {
	t.Helper()
	v := url.Values{}
	for k, x := range form {
		v.Set(k, x)
	}
	resp, err := http.PostForm(base+"/compile", v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/compile: %s", resp.Status)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("/compile lacks CORS")
	}
	var cr compileResponse
	if err := json.NewDecoder(resp.Body).Decode(&cr); err != nil {
		t.Fatal(err)
	}
	return cr
}

func TestCompileEventsAndDelays(t *testing.T) {
	_, _, ts := newFakeServer(t, nil)
	src := prog("out stdout 0s a", "out stderr 200ms b", "out stdout 200ms c")
	start := time.Now()
	cr := postCompile(t, ts.URL, map[string]string{"body": src, "version": "2"})
	elapsed := time.Since(start)
	if cr.Errors != "" || cr.Status != 0 || cr.IsTest || len(cr.Events) != 3 {
		t.Fatalf("response = %+v", cr)
	}
	var sum time.Duration
	for i, want := range []struct{ msg, kind string }{{"a\n", "stdout"}, {"b\n", "stderr"}, {"c\n", "stdout"}} {
		e := cr.Events[i]
		if e.Message != want.msg || e.Kind != want.kind {
			t.Errorf("event %d = %+v", i, e)
		}
		sum += e.Delay
	}
	if sum < 400*time.Millisecond || sum > elapsed {
		t.Errorf("delays sum to %v; the program took ~400ms (request %v)", sum, elapsed)
	}
	if cr.Events[1].Delay < 150*time.Millisecond {
		t.Errorf("second delay = %v, want ~200ms", cr.Events[1].Delay)
	}
}

func TestCompileJSONAndErrors(t *testing.T) {
	_, _, ts := newFakeServer(t, func(c *Config) { c.RunTimeout = 300 * time.Millisecond })
	body := `{"Body":` + strconvQuote(prog("compile-error 3:5 undefined: x")) + `}`
	resp, err := http.Post(ts.URL+"/compile", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var cr compileResponse
	_ = json.NewDecoder(resp.Body).Decode(&cr)
	resp.Body.Close()
	// As the Go playground: the go command's "./prog.go:line:col" and a
	// final newline.
	if cr.Errors != "./prog.go:3:5: undefined: x\n" || len(cr.Events) != 0 {
		t.Errorf("compile error response = %+v", cr)
	}
	// Raw JSON keys are those of the Go playground.
	resp, _ = http.Post(ts.URL+"/compile", "application/json", strings.NewReader(body))
	var raw map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&raw)
	resp.Body.Close()
	for _, k := range []string{"Errors", "Events", "Status", "IsTest", "TestsFailed"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("response lacks %s: %v", k, raw)
		}
	}

	cr = postCompile(t, ts.URL, map[string]string{"body": prog("out stdout 0s partial", "sleep 5s")})
	if cr.Errors != "timeout running program" || len(cr.Events) != 1 || cr.Events[0].Message != "partial\n" {
		t.Errorf("timeout response = %+v", cr)
	}
}

func TestCompileTestsAndVet(t *testing.T) {
	_, _, ts := newFakeServer(t, nil)
	src := "package main\n\nimport \"testing\"\n\nfunc TestA(t *testing.T) {}\n" +
		"//fake:out stdout 0s === RUN   TestA\n//fake:out stdout 0s --- FAIL: TestA (0.00s)\n//fake:out stdout 0s --- FAIL: TestB (0.00s)\n//fake:out stdout 0s FAIL\n//fake:exit 1\n"
	cr := postCompile(t, ts.URL, map[string]string{"body": src})
	if !cr.IsTest || cr.TestsFailed != 2 || cr.Status != 1 {
		t.Errorf("test response = %+v", cr)
	}
	cr = postCompile(t, ts.URL, map[string]string{"body": prog("vet 4:2 fmt.Printf format %d has arg of wrong type", "out stdout 0s ran"), "withVet": "true"})
	if cr.VetOK || cr.VetErrors != "prog.go:4:2: fmt.Printf format %d has arg of wrong type" {
		t.Errorf("vet response = %+v", cr)
	}
	cr = postCompile(t, ts.URL, map[string]string{"body": prog("out stdout 0s ran"), "withVet": "true"})
	if !cr.VetOK || cr.VetErrors != "" || len(cr.Events) != 1 {
		t.Errorf("vet ok response = %+v", cr)
	}
}

func TestCompileTooLargeAndPreflight(t *testing.T) {
	_, _, ts := newFakeServer(t, nil)
	resp, err := http.PostForm(ts.URL+"/compile", url.Values{"body": {strings.Repeat("x", MaxSourceSize+1)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("too large: %s", resp.Status)
	}
	for _, p := range []string{"/compile", "/fmt", "/version"} {
		req, _ := http.NewRequest("OPTIONS", ts.URL+p, nil)
		req.Header.Set("Origin", "https://example.com")
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("preflight %s: %s %v", p, resp.Status, resp.Header)
		}
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
