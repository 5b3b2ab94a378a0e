package site

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"playdoc/templates"
)

// assetSet is the fingerprinted CSS and JS of a build.
type assetSet struct {
	CSS, JS string // URL paths
	ThemeJS string // the theme script run before paint; "" without theme.js
	key     [sha256.Size]byte
}

// assets builds the fingerprinted stylesheet (site.css, both highlight
// themes, playground.css) and script (site.js, playground.js).
func (b *Builder) assets(site *Site) (assetSet, error) {
	read := func(name string, required bool) ([]byte, error) {
		if b.cfg.Static == nil {
			return nil, fmt.Errorf("no static assets configured")
		}
		data, err := fs.ReadFile(b.cfg.Static, name)
		if errors.Is(err, fs.ErrNotExist) && !required {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read static asset: %w", err)
		}
		// A byte order mark inside the concatenated stylesheet would
		// spoil the rule after it.
		return bytes.TrimPrefix(data, utf8BOM), nil
	}
	siteCSS, err := read("site.css", true)
	if err != nil {
		return assetSet{}, err
	}
	pgCSS, err := read("playground.css", false)
	if err != nil {
		return assetSet{}, err
	}
	pgJS, err := read("playground.js", false)
	if err != nil {
		return assetSet{}, err
	}
	siteJS, err := read("site.js", false)
	if err != nil {
		return assetSet{}, err
	}
	// One script: the reader features, then the page playground.
	js := pgJS
	if len(siteJS) > 0 {
		js = slices.Concat(siteJS, []byte("\n"), pgJS)
	}
	theme, err := themeCSS()
	if err != nil {
		return assetSet{}, err
	}
	var css bytes.Buffer
	css.WriteString(theme)
	css.WriteString("\n")
	css.Write(stripCSSComments(siteCSS))
	css.WriteString("\n")
	css.Write(stripCSSComments(pgCSS))
	themeJS, err := read("theme.js", false)
	if err != nil {
		return assetSet{}, err
	}
	cssBytes := css.Bytes()
	var a assetSet
	if len(themeJS) > 0 {
		// The reader's theme switch: rules for html[data-theme] too.
		cssBytes = []byte(themeable(css.String()))
		a.ThemeJS = "/assets/theme." + fingerprint(themeJS) + ".js"
		site.add(a.ThemeJS, themeJS, "")
	}
	a.CSS = "/assets/app." + fingerprint(cssBytes) + ".css"
	a.JS = "/assets/app." + fingerprint(js) + ".js"
	a.key = sha256.Sum256([]byte(a.CSS + a.JS + a.ThemeJS))
	site.add(a.CSS, cssBytes, "")
	site.add(a.JS, js, "")
	if b.cfg.LiveReload {
		reload, err := read("reload.js", false)
		if err != nil {
			return assetSet{}, err
		}
		site.add(templates.ReloadScript, reload, "")
	}
	return a, nil
}

// fingerprint is the short content hash in asset names.
func fingerprint(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:5])
}

// add stores an output file.
func (s *Site) add(urlPath string, body []byte, source string) {
	s.Files[urlPath] = &File{Path: urlPath, Body: body, Source: source}
}
