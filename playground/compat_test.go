package playground

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// These tests replay the requests that existing Go playground clients
// send, with their headers, against the real sandbox, and check the
// answers' exact shape: the page of golang/playground (jQuery: a
// urlencoded form, version=2&body=...&withVet=true), command-line
// clients (the fields in the query string, no body), pages that post
// FormData (multipart) or JSON (fetch), /share with a raw text body.

// clientDo sends one request with the given headers and returns the
// status, the headers and the body.
func clientDo(t *testing.T, method, url, body string, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// jqueryHeaders are those jQuery's $.ajax sets for a form post.
var jqueryHeaders = map[string]string{
	"Content-Type":     "application/x-www-form-urlencoded; charset=UTF-8",
	"Accept":           "application/json, text/javascript, */*; q=0.01",
	"X-Requested-With": "XMLHttpRequest",
	"Origin":           "https://example.org",
}

// checkCompileShape decodes a /compile answer generically and checks
// every field's name and JSON type as the Go playground sends them.
func checkCompileShape(t *testing.T, status int, hdr http.Header, body []byte, vet bool) map[string]any {
	t.Helper()
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if hdr.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("no Access-Control-Allow-Origin: *")
	}
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("not JSON: %v: %s", err, body)
	}
	want := map[string]string{"Errors": "string", "Events": "array|null", "Status": "number", "IsTest": "bool", "TestsFailed": "number"}
	for k, typ := range want {
		v, ok := raw[k]
		if !ok {
			t.Errorf("no %s in %s", k, body)
			continue
		}
		if got := jsonType(v); !strings.Contains(typ, got) {
			t.Errorf("%s is a %s, want %s", k, got, typ)
		}
	}
	for k := range raw {
		if _, ok := want[k]; !ok && (!vet || (k != "VetErrors" && k != "VetOK")) {
			t.Errorf("unexpected field %s", k)
		}
	}
	if evs, ok := raw["Events"].([]any); ok {
		for _, e := range evs {
			m, _ := e.(map[string]any)
			if len(m) != 3 || jsonType(m["Message"]) != "string" || jsonType(m["Delay"]) != "number" ||
				(m["Kind"] != "stdout" && m["Kind"] != "stderr") {
				t.Errorf("event %v: want {Message string, Kind stdout|stderr, Delay number}", e)
			}
		}
	}
	return raw
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	}
	return "object"
}

// eventsText concatenates the messages of one kind.
func eventsText(raw map[string]any, kind string) string {
	var sb strings.Builder
	evs, _ := raw["Events"].([]any)
	for _, e := range evs {
		if m, _ := e.(map[string]any); m["Kind"] == kind {
			sb.WriteString(m["Message"].(string))
		}
	}
	return sb.String()
}

const compatHello = "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\t\"time\"\n)\n\nfunc main() {\n\tfmt.Println(\"hello\")\n\ttime.Sleep(300 * time.Millisecond)\n\tfmt.Fprintln(os.Stderr, \"warn\")\n\tos.Exit(3)\n}\n"

func TestCompatCompileClients(t *testing.T) {
	_, ts := newRealServer(t, nil)
	src := uniq(compatHello)
	check := func(t *testing.T, status int, hdr http.Header, body []byte, vet bool) {
		raw := checkCompileShape(t, status, hdr, body, vet)
		if raw["Errors"] != "" || raw["Status"] != float64(3) || eventsText(raw, "stdout") != "hello\n" || eventsText(raw, "stderr") != "warn\n" {
			t.Errorf("answer %s", body)
		}
		evs, _ := raw["Events"].([]any)
		if len(evs) == 2 {
			// Delay is in nanoseconds: the 300 ms sleep shows in the
			// second. Lines are stamped when the server reads them, so a
			// late read of the first line on a busy machine shortens the
			// gap a little; 200 ms still tells a real gap from none.
			if d := evs[1].(map[string]any)["Delay"].(float64); d < 200e6 || d > 5e9 {
				t.Errorf("Delay of the stderr event = %v ns, want about 3e8", d)
			}
		} else {
			t.Errorf("%d events, want 2: %s", len(evs), body)
		}
		if vet && raw["VetOK"] != true {
			t.Errorf("withVet on a clean program: VetOK = %v", raw["VetOK"])
		}
	}
	t.Run("jquery form", func(t *testing.T) {
		form := url.Values{"version": {"2"}, "body": {src}, "withVet": {"true"}}
		st, hdr, b := clientDo(t, "POST", ts.URL+"/compile", form.Encode(), jqueryHeaders)
		check(t, st, hdr, b, true)
	})
	t.Run("query string, no body", func(t *testing.T) {
		q := url.Values{"version": {"2"}, "body": {src}}
		st, hdr, b := clientDo(t, "POST", ts.URL+"/compile?"+q.Encode(), "", nil)
		check(t, st, hdr, b, false)
	})
	t.Run("multipart FormData", func(t *testing.T) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("version", "2")
		_ = mw.WriteField("body", src)
		_ = mw.WriteField("withVet", "true")
		_ = mw.Close()
		st, hdr, b := clientDo(t, "POST", ts.URL+"/compile", buf.String(), map[string]string{"Content-Type": mw.FormDataContentType()})
		check(t, st, hdr, b, true)
	})
	for _, ct := range []string{"application/json", "text/plain;charset=UTF-8"} {
		t.Run("JSON as "+ct, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"body": src, "withVet": true, "version": 2})
			st, hdr, b := clientDo(t, "POST", ts.URL+"/compile", string(body), map[string]string{"Content-Type": ct})
			check(t, st, hdr, b, true)
		})
	}
}

func TestCompatCompileErrorsAndVet(t *testing.T) {
	_, ts := newRealServer(t, nil)
	post := func(t *testing.T, form url.Values, vet bool) map[string]any {
		st, hdr, b := clientDo(t, "POST", ts.URL+"/compile", form.Encode(), jqueryHeaders)
		return checkCompileShape(t, st, hdr, b, vet)
	}
	t.Run("compile error", func(t *testing.T) {
		// The Go playground sends the go command's output as it is.
		raw := post(t, url.Values{"version": {"2"}, "body": {uniq("package main\n\nfunc main() {\n\tx := 1\n}\n")}}, false)
		if raw["Errors"] != "./prog.go:4:2: declared and not used: x\n" || raw["Events"] != nil || raw["Status"] != float64(0) {
			t.Errorf("answer %v", raw)
		}
	})
	t.Run("vet error", func(t *testing.T) {
		raw := post(t, url.Values{"version": {"2"}, "withVet": {"true"}, "body": {uniq("package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Printf(\"%d\\n\", \"x\")\n}\n")}}, true)
		if v, _ := raw["VetErrors"].(string); !strings.HasPrefix(v, "prog.go:6:14: fmt.Printf format %d has arg \"x\" of wrong type string") {
			t.Errorf("VetErrors %q", v)
		}
		if _, ok := raw["VetOK"]; ok {
			t.Error("VetOK sent with vet errors (the Go playground omits it)")
		}
		if eventsText(raw, "stdout") != "%!d(string=x)\n" {
			t.Errorf("the program did not run after vet: %v", raw)
		}
	})
	t.Run("tests", func(t *testing.T) {
		raw := post(t, url.Values{"version": {"2"}, "body": {"package main\n\nimport \"testing\"\n\nfunc TestA(t *testing.T) {}\n\nfunc TestB(t *testing.T) { t.Error(\"no\") }\n"}}, false)
		if raw["IsTest"] != true || raw["TestsFailed"] != float64(1) || raw["Status"] != float64(1) ||
			!strings.Contains(eventsText(raw, "stdout"), "--- FAIL: TestB") {
			t.Errorf("answer %v", raw)
		}
	})
	t.Run("several files", func(t *testing.T) {
		// As gp run a.go b.go sends them: no prog.go.
		body := "-- a.go --\npackage main\n\nfunc main() { hello() }\n-- b.go --\npackage main\n\nimport \"fmt\"\n\nfunc hello() { fmt.Println(\"from b\") }\n"
		raw := post(t, url.Values{"version": {"2"}, "body": {uniq(body)}}, false)
		if raw["Errors"] != "" || eventsText(raw, "stdout") != "from b\n" {
			t.Errorf("answer %v", raw)
		}
	})
	t.Run("go.mod and a package", func(t *testing.T) {
		// The Go playground's own multi-file example.
		body := "package main\n\nimport \"play.ground/foo\"\n\nfunc main() { foo.Bar() }\n" +
			"-- go.mod --\nmodule play.ground\n" +
			"-- foo/foo.go --\npackage foo\n\nimport \"fmt\"\n\nfunc Bar() { fmt.Println(\"This function lives in an another file!\") }\n"
		raw := post(t, url.Values{"version": {"2"}, "body": {uniq(body)}}, false)
		if raw["Errors"] != "" || eventsText(raw, "stdout") != "This function lives in an another file!\n" {
			t.Errorf("answer %v", raw)
		}
		// Its go line (any) and requirements of the allowed modules (any
		// version) are taken as the server's.
		for _, mod := range []string{"module m\ngo 1.16\n", "module m\ngo 1.21\n", "module m\ngo 1.99\n", "module m\n\nrequire modernc.org/sqlite v1.0.0\n"} {
			body := "package main\n\nimport _ \"modernc.org/sqlite\"\n\nfunc main() { println(\"ok\") }\n-- go.mod --\n" + mod
			raw := post(t, url.Values{"version": {"2"}, "body": {uniq(body)}}, false)
			if raw["Errors"] != "" || eventsText(raw, "stderr") != "ok\n" {
				t.Errorf("go.mod %q: answer %v", mod, raw)
			}
		}
	})
	t.Run("go.mod cannot add modules", func(t *testing.T) {
		for _, mod := range []string{
			"module m\nreplace golang.org/x/sync => /etc\n",
			"module m\nrequire example.com/evil v1.0.0\n",
			"module m\ntoolchain go1.99.0\n",
		} {
			raw := post(t, url.Values{"version": {"2"}, "body": {"package main\n\nfunc main() {}\n-- go.mod --\n" + mod}}, false)
			if e, _ := raw["Errors"].(string); !strings.HasPrefix(e, "go.mod:") || raw["Events"] != nil {
				t.Errorf("go.mod %q: answer %v", mod, raw)
			}
		}
	})
}

func TestCompatFmtShareVersion(t *testing.T) {
	s, ts := newRealServer(t, nil)
	fmtCase := func(t *testing.T, form url.Values) fmtResponse {
		st, hdr, b := clientDo(t, "POST", ts.URL+"/fmt", form.Encode(), jqueryHeaders)
		if st != 200 || hdr.Get("Content-Type") != "application/json" || hdr.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("/fmt: %d %v %s", st, hdr, b)
		}
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil || len(raw) != 2 || jsonType(raw["Body"]) != "string" || jsonType(raw["Error"]) != "string" {
			t.Fatalf("/fmt answer %s: want {Body string, Error string}", b)
		}
		return fmtResponse{Body: raw["Body"].(string), Error: raw["Error"].(string)}
	}
	cases := []struct {
		name, body, imports, want, wantErr string
	}{
		{"gofmt", "package main\nfunc main( ) {  }", "", "package main\n\nfunc main() {}\n", ""},
		{"goimports", "package main\nfunc main() { fmt.Println() }", "true", "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println() }\n", ""},
		{"syntax error", "package 123\n", "", "", "prog.go:1:9: expected 'IDENT', found 123"},
		{"syntax error, imports", "package 123\n", "true", "", "prog.go:1:9: expected 'IDENT', found 123"},
		{"txtar", "package  main\n-- util.go --\npackage   main\nvar  X=1\n-- go.mod --\nmodule   m\n-- notes.txt --\n  as  is\n", "",
			"package main\n-- util.go --\npackage main\n\nvar X = 1\n-- go.mod --\nmodule m\n-- notes.txt --\n  as  is\n", ""},
		{"txtar error names the file", "package main\n-- dir/x.go --\npackage 123\n", "", "", "dir/x.go:1:9: expected 'IDENT', found 123"},
		{"go.mod error", "package main\n-- go.mod --\n123\n", "", "", "go.mod:1: unknown directive: 123"},
	}
	for _, c := range cases {
		t.Run("fmt "+c.name, func(t *testing.T) {
			form := url.Values{"body": {c.body}}
			if c.imports != "" {
				form.Set("imports", c.imports)
			}
			if got := fmtCase(t, form); got.Body != c.want || got.Error != c.wantErr {
				t.Errorf("got %+v\nwant {Body:%q Error:%q}", got, c.want, c.wantErr)
			}
		})
	}
	t.Run("share and download", func(t *testing.T) {
		src := uniq(compatHello)
		st, hdr, b := clientDo(t, "POST", ts.URL+"/share", src, map[string]string{"Content-Type": "text/plain; charset=utf-8", "Origin": "https://example.org"})
		id := string(b)
		if st != 200 || id != ShareID([]byte(src)) || hdr.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("/share: %d %q %v", st, b, hdr)
		}
		st, hdr, b = clientDo(t, "GET", ts.URL+"/p/"+id+".go", "", nil)
		if st != 200 || string(b) != src || hdr.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("/p/%s.go: %d %v %q", id, st, hdr, b)
		}
		// A shared snippet runs as sent.
		st, hdr, b = clientDo(t, "POST", ts.URL+"/compile", url.Values{"version": {"2"}, "body": {string(b)}}.Encode(), jqueryHeaders)
		if raw := checkCompileShape(t, st, hdr, b, false); eventsText(raw, "stdout") != "hello\n" {
			t.Errorf("shared snippet run: %s", b)
		}
	})
	t.Run("version", func(t *testing.T) {
		st, hdr, b := clientDo(t, "GET", ts.URL+"/version", "", map[string]string{"Origin": "https://example.org"})
		var v map[string]any
		_ = json.Unmarshal(b, &v)
		ver := s.builder.Version()
		rel := ver[:strings.LastIndex(ver, ".")]
		if st != 200 || hdr.Get("Content-Type") != "application/json" || hdr.Get("Access-Control-Allow-Origin") != "*" || len(v) != 3 ||
			v["Version"] != ver || v["Release"] != rel || v["Name"] != "Go "+strings.TrimPrefix(rel, "go") {
			t.Errorf("/version: %d %v %s", st, hdr, b)
		}
	})
	t.Run("preflight", func(t *testing.T) {
		for _, p := range []string{"/compile", "/fmt", "/share", "/version", "/p/abcdefghijk.go"} {
			st, hdr, _ := clientDo(t, "OPTIONS", ts.URL+p, "", map[string]string{
				"Origin": "https://example.org", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type",
			})
			if st/100 != 2 || hdr.Get("Access-Control-Allow-Origin") != "*" ||
				!strings.Contains(hdr.Get("Access-Control-Allow-Methods"), "POST") ||
				!strings.Contains(strings.ToLower(hdr.Get("Access-Control-Allow-Headers")), "content-type") {
				t.Errorf("OPTIONS %s: %d %v", p, st, hdr)
			}
		}
	})
}
