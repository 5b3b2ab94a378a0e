package playground

import (
	"fmt"
	"strings"
	"testing"

	"playdoc/playground/api"
)

// interleaved is the issue's program: stderr and stdout by turns.
const interleaved = `package main

import (
	"fmt"
	"os"
)

func main() {
	for i := 0; i < N; i++ {
		fmt.Fprintln(os.Stderr, "error", i)
		fmt.Println("output", i)
	}
}
`

// wantInterleaved is the terminal's view of interleaved: kind and text of
// each line.
func wantInterleaved(n int) []string {
	var want []string
	for i := 0; i < n; i++ {
		want = append(want, fmt.Sprintf("stderr error %d\n", i), fmt.Sprintf("stdout output %d\n", i))
	}
	return want
}

// TestRealOrderAcrossStreams: /api/run and /compile keep the program's
// order across stdout and stderr exactly, for 5 and for 500 turns.
func TestRealOrderAcrossStreams(t *testing.T) {
	_, ts := newRealServer(t, nil)
	for _, n := range []int{5, 500} {
		src := uniq(strings.Replace(interleaved, "N", fmt.Sprint(n), 1))
		var got []string
		for _, e := range runCode(t, ts.URL, src) {
			if e.Kind == api.KindStdout || e.Kind == api.KindStderr {
				got = append(got, string(e.Kind)+" "+e.Data)
			}
		}
		if want := wantInterleaved(n); strings.Join(got, "") != strings.Join(want, "") {
			t.Errorf("/api/run, %d turns: got\n%s", n, clipLines(got))
		}
		resp := postCompile(t, ts.URL, map[string]string{"body": src})
		got = got[:0]
		for _, e := range resp.Events {
			for _, l := range strings.SplitAfter(e.Message, "\n") {
				if l != "" {
					got = append(got, e.Kind+" "+l)
				}
			}
		}
		if want := wantInterleaved(n); strings.Join(got, "") != strings.Join(want, "") {
			t.Errorf("/compile, %d turns: got\n%s", n, clipLines(got))
		}
	}
}

// clipLines shows the first lines of a long list.
func clipLines(l []string) string {
	if len(l) > 12 {
		l = append(l[:12:12], "...")
	}
	return strings.Join(l, "")
}

// TestRealProgramKinds: a file of examples, of fuzz seed corpora or of
// benchmarks runs as `go test` runs it.
func TestRealProgramKinds(t *testing.T) {
	_, ts := newRealServer(t, nil)
	const head = "package main\n\nimport (\n\t\"fmt\"\n\t\"strings\"\n\t\"testing\"\n)\n\nvar _ = strings.Repeat\nvar _ = fmt.Sprint\nvar _ *testing.T\n\n"
	examples := uniq(head + "func ExampleGood() {\n\tfmt.Println(\"hello\")\n\t// Output: hello\n}\n\n" +
		"func ExampleBad() {\n\tfmt.Println(\"got this\")\n\t// Output: want that\n}\n")
	resp := postCompile(t, ts.URL, map[string]string{"body": examples})
	all := ""
	for _, e := range resp.Events {
		all += e.Message
	}
	if !resp.IsTest || resp.TestsFailed != 1 || resp.Status != 1 || resp.Errors != "" {
		t.Errorf("examples: %+v", resp)
	}
	for _, want := range []string{"--- PASS: ExampleGood", "--- FAIL: ExampleBad", "got:\ngot this\nwant:\nwant that\n", "FAIL\n"} {
		if !strings.Contains(all, want) {
			t.Errorf("examples: output lacks %q:\n%s", want, all)
		}
	}

	fuzz := uniq(head + "func FuzzUpper(f *testing.F) {\n\tf.Add(\"abc\")\n\tf.Add(\"é\")\n" +
		"\tf.Fuzz(func(t *testing.T, s string) {\n\t\tif strings.ToUpper(strings.ToLower(s)) != strings.ToUpper(s) {\n\t\t\tt.Errorf(\"%q\", s)\n\t\t}\n\t})\n}\n")
	evs := runCode(t, ts.URL, fuzz)
	out := output(evs, api.KindStdout)
	if !strings.Contains(out, "--- PASS: FuzzUpper") || !strings.Contains(out, "FuzzUpper/seed#1") || !strings.Contains(out, "PASS\n") {
		t.Errorf("fuzz seeds: %s (events %s; %+v)", out, kinds(evs), evs[len(evs)-1].Event)
	}

	bench := uniq(head + "func BenchmarkJoin(b *testing.B) {\n\tfor b.Loop() {\n\t\t_ = strings.Repeat(\"ab\", 100)\n\t}\n}\n\n" +
		"func BenchmarkSprint(b *testing.B) {\n\tfor b.Loop() {\n\t\t_ = fmt.Sprint(1, 2)\n\t}\n}\n")
	evs = runCode(t, ts.URL, bench)
	out = output(evs, api.KindStdout)
	for _, name := range []string{"BenchmarkJoin", "BenchmarkSprint"} {
		var line string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, name) && strings.Contains(l, "ns/op") {
				line = l
			}
		}
		if !strings.Contains(line, " B/op") || !strings.Contains(line, " allocs/op") {
			t.Errorf("%s: no ns/op, B/op and allocs/op line in\n%s", name, out)
		}
	}
	if exit, _ := find(evs, api.KindExit); exit.Code != 0 {
		t.Errorf("benchmarks: %+v", exit.Event)
	}
}

// environment calls, as go.dev/play runs them, one output line each.
const environment = `package main

import (
	"crypto/x509"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"os/user"
	"strings"
	"time"
)

func main() {
	for _, z := range []string{"Europe/Berlin", "America/New_York", "Asia/Tokyo"} {
		loc, err := time.LoadLocation(z)
		if err != nil {
			fmt.Printf("zone %s: %v\n", z, err)
			continue
		}
		fmt.Printf("zone %s: %s\n", z, time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC).In(loc).Format("15:04 MST"))
	}
	fmt.Printf("mime .odt: %s\n", mime.TypeByExtension(".odt"))
	fmt.Printf("mime .json: %s\n", mime.TypeByExtension(".json"))
	port, err := net.LookupPort("tcp", "postgresql")
	fmt.Printf("port postgresql: %d %v\n", port, err)
	_, err = net.ListenPacket("ip4:gre", "127.0.0.1")
	fmt.Printf("protocol gre: known %v\n", err == nil || !strings.Contains(err.Error(), "unknown"))
	u, err := user.Current()
	if err != nil {
		fmt.Printf("user: %v\n", err)
	} else {
		fmt.Printf("user: %s %s %s %v\n", u.Username, u.Uid, u.HomeDir, err)
	}
	g, err := user.LookupGroupId("65534")
	if err != nil {
		fmt.Printf("group: %v\n", err)
	} else {
		fmt.Printf("group: %s\n", g.Name)
	}
	pool, err := x509.SystemCertPool()
	fmt.Printf("roots: %v %v\n", err == nil && !pool.Equal(x509.NewCertPool()), err)
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello over TLS")
	}))
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL)
	if err != nil {
		fmt.Printf("tls: %v\n", err)
		return
	}
	b, _ := io.ReadAll(resp.Body)
	fmt.Printf("tls: %s\n", b)
}
`

// TestRealEnvironment: the standard library calls that work on
// go.dev/play work here, one check per call.
func TestRealEnvironment(t *testing.T) {
	_, ts := newRealServer(t, nil)
	evs := runCode(t, ts.URL, uniq(environment))
	got := map[string]string{}
	for _, l := range strings.Split(output(evs, api.KindStdout), "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			got[k] = v
		}
	}
	for call, want := range map[string]string{
		"zone Europe/Berlin":    "14:00 CEST",
		"zone America/New_York": "08:00 EDT",
		"zone Asia/Tokyo":       "21:00 JST",
		"mime .odt":             "application/vnd.oasis.opendocument.text",
		"mime .json":            "application/json",
		"port postgresql":       "5432 <nil>",
		"protocol gre":          "known true",
		"user":                  "gopher 65534 /tmp <nil>",
		"group":                 "gopher",
		"roots":                 "true <nil>",
		"tls":                   "hello over TLS",
	} {
		t.Run(strings.ReplaceAll(call, " ", "_"), func(t *testing.T) {
			if got[call] != want {
				t.Errorf("%s: %q, want %q (stderr %q)", call, got[call], want, output(evs, api.KindStderr))
			}
		})
	}
}
