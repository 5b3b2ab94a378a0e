package devserver

import (
	"os"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// TestNetlifyCSPAllowsWhatThePageNeeds: the policy netlify.toml gives the
// published site allows, for each directive the page relies on, every
// source the development server's policy (CSP) allows: a page that works
// under `playdoc serve` must not break once published (an image a program
// prints is a data: URL).
func TestNetlifyCSPAllowsWhatThePageNeeds(t *testing.T) {
	data, err := os.ReadFile("../netlify.toml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Headers []struct {
			For    string            `toml:"for"`
			Values map[string]string `toml:"values"`
		} `toml:"headers"`
	}
	if err := toml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("netlify.toml: %v", err)
	}
	var published string
	for _, h := range cfg.Headers {
		if h.For == "/*" {
			published = h.Values["Content-Security-Policy"]
		}
	}
	if published == "" {
		t.Fatal("netlify.toml sets no Content-Security-Policy for /*")
	}
	directives := func(policy string) map[string][]string {
		out := map[string][]string{}
		for d := range strings.SplitSeq(policy, ";") {
			if f := strings.Fields(d); len(f) > 0 {
				out[f[0]] = f[1:]
			}
		}
		return out
	}
	pub := directives(published)
	for _, name := range []string{"script-src", "style-src", "connect-src", "img-src"} {
		for _, src := range directives(CSP)[name] {
			if !strings.Contains(" "+strings.Join(pub[name], " ")+" ", " "+src+" ") {
				t.Errorf("netlify.toml's %s lacks %s, which the development server allows", name, src)
			}
		}
	}
}
