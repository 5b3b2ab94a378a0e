package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The fixture page without a playground: the static fallback shows the
// recorded output, and a backend that cannot sandbox says so.

// TestFixtureStatic: without /api/ (404, as on a static host), Run says the
// playground is unavailable and shows the recorded output.
func TestFixtureStatic(t *testing.T) {
	srv, err := fixtureServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	p := openPage(t, newBrowser(t), srv.URL+"/gather/")
	checkFallback(t, p, "concurrent", "fixture-static.png")
	p.noConsoleErrors("404")
}

// TestFixtureNeedsLinux: serve off Linux answers the playground's calls
// with 501 and why; Run shows the recorded output and says the playground
// needs Linux.
func TestFixtureNeedsLinux(t *testing.T) {
	const why = "sandbox: the playground's sandbox needs Linux (this is darwin/arm64): unsupported operation; run `playdoc serve --playground URL` to use a playground running on Linux"
	srv, err := fixtureServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotImplemented)
		json.NewEncoder(w).Encode(map[string]string{"error": why})
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	p := openPage(t, newBrowser(t), srv.URL+"/gather/")
	st := checkFallback(t, p, "concurrent", "fixture-needs-linux.png")
	if !strings.Contains(st.Msg, "needs Linux") || !strings.Contains(st.Msg, "--playground URL") {
		t.Errorf("message %q, want the reason: the playground needs Linux", st.Msg)
	}
	p.noConsoleErrors("501")
}

// checkFallback presses Run where there is no playground and checks the
// message on the button and the recorded output in the panel.
func checkFallback(t *testing.T, p *page, name, shot string) snippetState {
	st := p.run(name, 15*time.Second)
	p.screenshot(name, shot)
	if !strings.Contains(st.RunLabel, "unavailable") {
		t.Errorf("Run button says %q, want it to say the playground is unavailable", st.RunLabel)
	}
	if !strings.Contains(st.Msg, "Playground unavailable") || !strings.Contains(st.Msg, "recorded output") {
		t.Errorf("message %q, want the fallback explained", st.Msg)
	}
	want := strings.Split(strings.TrimSuffix(st.Expected, "\n"), "\n")
	if strings.Join(st.Lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("panel shows %q, want the recorded output %q", st.Lines, want)
	}
	if !strings.HasPrefix(st.Foot, "Recorded output") {
		t.Errorf("footer %q, want Recorded output", st.Foot)
	}
	var formatShown bool
	p.eval(fmt.Sprintf(`document.querySelector(%q).offsetParent !== null`, fig(name)+` .pg-fmt`), &formatShown)
	if formatShown {
		t.Errorf("Format is offered although there is no playground")
	}
	return st
}
