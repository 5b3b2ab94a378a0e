package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	src := `title = "My docs"
description = "What they are."
base_url = "https://docs.example.org/"
language = "pt-BR"
footer = "© us"
playground_url = "https://play.example.org"

[repository]
url = "https://github.com/org/repo"
edit = "{url}/edit/main/{content}/{path}"

[nav]
order = ["guide", "reference"]

[redirects]
"/old/" = "/guide/new/"

[search.synonyms]
gather = ["errgroup", "WaitGroup"]
`
	s, err := Parse("playdoc.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if s.Title != "My docs" || s.BaseURL != "https://docs.example.org" || s.Language != "pt-BR" || s.Footer != "© us" ||
		s.PlaygroundURL != "https://play.example.org" || len(s.Nav.Order) != 2 || s.Redirects["/old/"] != "/guide/new/" ||
		len(s.Search.Synonyms["gather"]) != 2 {
		t.Errorf("parsed %+v", s)
	}
	if got, want := s.EditURL("guide/01-a.md"), "https://github.com/org/repo/edit/main/content/guide/01-a.md"; got != want {
		t.Errorf("EditURL = %q, want %q", got, want)
	}
	if s.Line("nav.order") != 13 || s.Line("repository.edit") != 10 {
		t.Errorf("lines: nav.order %d, repository.edit %d", s.Line("nav.order"), s.Line("repository.edit"))
	}
}

// TestParseErrors: every mistake names the file and line.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"title = \"x\"\ntitel = \"y\"\n", `playdoc.toml:2: unknown key "titel"`},
		{"title = \"x\"\n[repository]\nurl = \"https://x.org\"\nedt = \"y\"\n", `playdoc.toml:4: unknown key "repository.edt"`},
		{"title = \"x\"\n\nfooter = 3\n", `playdoc.toml:3: `},
		{"title = \"x\"\nbase_url = \"docs.example.org\"\n", `playdoc.toml:2: base_url "docs.example.org" is not an absolute http(s) URL`},
		{"description = \"x\"\n", `playdoc.toml: title is required`},
		{"title = \"x\"\nlanguage = \"english please\"\n", `playdoc.toml:2: language "english please"`},
		{"title = \"x\"\n[repository]\nedit = \"https://x.org/edit\"\n", `playdoc.toml:3: repository.edit "https://x.org/edit" lacks {path}`},
		{"title = \"x\"\n[nav]\norder = [\"a\", \"a\"]\n", `playdoc.toml:3: nav.order lists "a" twice`},
		{"title = \"x\"\ntitle = \"y\"\n", `playdoc.toml:2: `},
		{"title = \"x\"\n[redirects]\n\"old\" = \"/new/\"\n", `playdoc.toml:3: redirect "old" = "/new/"`},
	} {
		_, err := Parse("playdoc.toml", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.src, err, tc.want)
		}
	}
}

// TestTutorialConfig reads the repository's own playdoc.toml.
func TestTutorialConfig(t *testing.T) {
	s, err := Load("../" + FileName)
	if err != nil {
		t.Fatal(err)
	}
	if s.Title == "" || s.BaseURL == "" {
		t.Errorf("tutorial config %+v", s)
	}
	if _, err := Load("no-such-dir/" + FileName); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestParseBOM checks that a file saved "UTF-8 with BOM" (and with CRLF
// line endings) reads like any other.
func TestParseBOM(t *testing.T) {
	s, err := Parse("playdoc.toml", []byte("\xef\xbb\xbftitle = \"With a BOM\"\r\ndescription = \"d\"\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Title != "With a BOM" || s.Line("description") != 2 {
		t.Errorf("title %q, description on line %d", s.Title, s.Line("description"))
	}
}

// TestLoadSaysYAMLIsNotRead: a playdoc.yaml where playdoc.toml is looked
// for, or named with --config, is an error saying playdoc reads TOML, not
// a silently ignored file.
func TestLoadSaysYAMLIsNotRead(t *testing.T) {
	dir := t.TempDir()
	yaml := filepath.Join(dir, "playdoc.yaml")
	if err := os.WriteFile(yaml, []byte("titel: typo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, FileName), yaml} {
		_, err := Load(path)
		if err == nil || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), yaml) || !strings.Contains(err.Error(), "TOML") {
			t.Errorf("Load(%s) = %v, want an error naming %s and TOML", path, err, yaml)
		}
	}
	// Without any configuration the error is still "not found".
	if _, err := Load(filepath.Join(t.TempDir(), FileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no configuration: %v, want fs.ErrNotExist", err)
	}
}
