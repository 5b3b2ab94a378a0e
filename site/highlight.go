package site

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/alecthomas/chroma/v2"
	chtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"
)

// highlightVersion is part of every cache key: change it when the
// highlighted HTML changes for the same code, to drop old cache entries.
const highlightVersion = "playdoc-hl-4" // 4: earlier caches may hold blocks lexed past chroma's match timeout (chromalex.go)

// Themes of the highlighted code: light by default, dark when the reader's
// system prefers it.
const (
	lightStyle = "github"
	darkStyle  = "github-dark"
)

// The backgrounds of highlighted lines (hl=), a warm tint of each theme's
// code background; the token colours reach AA against them too.
const (
	lightLineTint = "#fbf0c0"
	darkLineTint  = "#2e2a16"
)

// lightText is the text colour of code in the light theme: github's own
// (its punctuation and names; site.css's --fg), which the style leaves off
// its background entry. Set there, on the block, the tokens drawn in it
// need no span (see unstyledClasses); github-dark sets its own.
const lightText = "#1f2328"

// unstyledClasses are the token classes that neither code theme colours:
// their text shows in the block's colour, so formatTokens writes it without
// a span. Punctuation and plain names were two thirds of a Go block's spans
// and a fifth of a page's bytes. TestUnstyledClasses checks this list
// against the themes, both ways.
var unstyledClasses = map[string]bool{"w": true, "n": true, "nx": true, "p": true, "x": true, "g": true, "cl": true, "na": true}

// cacheFile is the highlight cache's file name inside the cache folder.
const cacheFile = "highlight.cache"

// highlighter turns code into highlighted HTML (spans with chroma's CSS
// classes), remembering every result by a hash of the language and code,
// in memory and, when it has a path, on disk across runs.
type highlighter struct {
	path string // "" = memory only

	mu      sync.Mutex
	entries map[string]string
	dirty   bool

	// goTokens holds *[]chroma.Token for appendGoTokens: the tokens of
	// a Go block are dropped once written as HTML, and a new slice for
	// each (12 bytes per byte of code) was a twentieth of what a cold
	// build allocated.
	goTokens sync.Pool
}

func newHighlighter(path string) *highlighter {
	return &highlighter{path: path, entries: map[string]string{}}
}

// hlKey identifies the highlighted HTML of some code.
func hlKey(lang, code string) string {
	h := sha256.New()
	h.Write([]byte(highlightVersion))
	h.Write([]byte{0})
	h.Write([]byte(lang))
	h.Write([]byte{0})
	h.Write([]byte(code))
	return hex.EncodeToString(h.Sum(nil))
}

// load reads the cache file, if any. A missing or unreadable cache is not an
// error: it only costs time.
func (h *highlighter) load() error {
	if h.path == "" {
		return nil
	}
	// Decoded from the file as it is read: the file is tens of MB for a
	// large site, and need not be in memory twice.
	f, err := os.Open(h.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read highlight cache: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("read highlight cache: %w", err)
	}
	m, err := decodeHighlights(bufio.NewReaderSize(f, 256<<10), st.Size())
	if err != nil {
		return fmt.Errorf("decode highlight cache %s (it will be rebuilt): %w", h.path, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, v := range m {
		if _, ok := h.entries[k]; !ok {
			h.entries[k] = v
		}
	}
	return nil
}

// hlMagic starts the highlight cache file. The file is the magic, the
// number of entries, each entry's key and HTML (length, bytes), the
// numbers as uvarints, then the sha256 of all that: gob took 0.37 s of a
// cold build's CPU to write the 1000-page corpus's 6.9 MB.
const hlMagic = "playdoc-hl 1\n"

// decodeHighlights reads a highlight cache file of size bytes from r.
func decodeHighlights(r *bufio.Reader, size int64) (map[string]string, error) {
	sr := &sumReader{r: r, h: sha256.New()}
	magic := make([]byte, len(hlMagic))
	if _, err := io.ReadFull(sr, magic); err != nil || string(magic) != hlMagic {
		return nil, errors.New("not a highlight cache of this version")
	}
	str := func() (string, error) {
		n, err := binary.ReadUvarint(sr)
		if err != nil {
			return "", err
		}
		if n > uint64(size) {
			return "", errors.New("malformed entry")
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(sr, b); err != nil {
			return "", err
		}
		return string(b), nil
	}
	count, err := binary.ReadUvarint(sr)
	if err != nil {
		return nil, err
	}
	if count > uint64(size) {
		return nil, errors.New("malformed count")
	}
	m := make(map[string]string, count)
	for range count {
		k, err := str()
		if err != nil {
			return nil, err
		}
		v, err := str()
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	var want [sha256.Size]byte
	if _, err := io.ReadFull(r, want[:]); err != nil {
		return nil, errors.New("truncated")
	}
	if !bytes.Equal(sr.h.Sum(nil), want[:]) {
		return nil, errors.New("damaged (checksum mismatch)")
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return nil, errors.New("data after the checksum")
	}
	return m, nil
}

// sumReader reads from r, hashing what it gives.
type sumReader struct {
	r   *bufio.Reader
	h   hash.Hash
	one [1]byte
}

func (s *sumReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	return n, err
}

func (s *sumReader) ReadByte() (byte, error) {
	b, err := s.r.ReadByte()
	if err == nil {
		s.one[0] = b
		s.h.Write(s.one[:])
	}
	return b, err
}

// save writes the cache atomically (temp file and rename) when it changed.
// Entries no longer used are dropped first, so the file does not grow
// without bound.
func (h *highlighter) save(used map[string]bool) error {
	h.mu.Lock()
	if h.path == "" || !h.dirty {
		h.mu.Unlock()
		return nil
	}
	for k := range h.entries {
		if !used[k] {
			delete(h.entries, k)
		}
	}
	defer h.mu.Unlock()
	// Encoded straight into the file: a buffer would hold the whole cache
	// a second time, at the end of a build, when memory peaks.
	dir := filepath.Dir(h.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create cache dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, cacheFile+".*")
	if err != nil {
		return fmt.Errorf("write highlight cache: %w", err)
	}
	bw := bufio.NewWriterSize(tmp, 256<<10)
	sum := sha256.New()
	w := io.MultiWriter(bw, sum)
	var num [binary.MaxVarintLen64]byte
	put := func(s string) {
		w.Write(num[:binary.PutUvarint(num[:], uint64(len(s)))])
		io.WriteString(w, s)
	}
	io.WriteString(w, hlMagic)
	w.Write(num[:binary.PutUvarint(num[:], uint64(len(h.entries)))])
	for k, v := range h.entries {
		put(k)
		put(v)
	}
	bw.Write(sum.Sum(nil))
	eerr := bw.Flush()
	cerr := tmp.Close()
	if err := errors.Join(eerr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write highlight cache: %w", err)
	}
	h.dirty = false
	if err := os.Rename(tmp.Name(), h.path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write highlight cache: %w", err)
	}
	return nil
}

func (h *highlighter) get(key string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.entries[key]
	return v, ok
}

func (h *highlighter) put(key, v string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.entries[key] = v
	h.dirty = true
}

// highlight renders code as HTML spans. Go goes through the fast scanner
// based tokeniser; other languages through chroma's lexers; unknown
// languages are escaped text.
func (h *highlighter) highlight(lang, code string) (string, error) {
	var tokens []chroma.Token
	switch lang {
	case "go":
		buf, _ := h.goTokens.Get().(*[]chroma.Token)
		if buf == nil {
			buf = new([]chroma.Token)
		}
		*buf = appendGoTokens((*buf)[:0], code)
		html := formatTokens(*buf)
		clear(*buf) // the tokens' strings point into code
		h.goTokens.Put(buf)
		return html, nil
	case "", "text", "plain", "output":
		return escapeText(code), nil
	default:
		lexer := lexers.Get(lang)
		if lexer == nil {
			return escapeText(code), nil
		}
		var err error
		if tokens, err = tokeniseChroma(lexer, code); err != nil {
			return "", fmt.Errorf("highlight %s: %w", lang, err)
		}
	}
	return formatTokens(tokens), nil
}

// formatTokens writes tokens as HTML spans with chroma's classes, leaving
// the text of unstyledClasses unwrapped.
func formatTokens(tokens []chroma.Token) string { return writeTokens(tokens, unstyledClasses) }

// writeTokens writes tokens as chroma's HTML formatter does with
// WithClasses, WithAllClasses and PreventSurroundingPre (a test checks
// that the output is the same, byte for byte), without its per-token
// fmt.Sprintf, which made it five times slower than tokenising, without a
// span around the tokens whose class is in bare (their text is written as
// it is), and with quotes as they are (escapeText).
func writeTokens(tokens []chroma.Token, bare map[string]bool) string {
	var b strings.Builder
	n := 0
	empty := false
	for _, t := range tokens {
		n += len(t.Value)
		empty = empty || t.Value == ""
	}
	b.Grow(n * 3) // a Go block's HTML is about twice its code
	if empty {
		// chroma's line splitting drops an empty token in one place (a
		// last line of its own): done by chroma itself, for these rare
		// tokens (the lexers and tokeniseGo drop empty ones).
		for _, line := range chroma.SplitTokensIntoLines(tokens) {
			for _, t := range line {
				writeToken(&b, tokenClass(t.Type), t.Value, bare)
			}
		}
	} else {
		// chroma's formatter splits the tokens into lines, a token with a
		// newline into one per line, each in its own span: the same,
		// without the copies of the tokens (a sixth of a cold build's
		// allocations were SplitTokensIntoLines').
		for _, t := range tokens {
			cls := tokenClass(t.Type)
			v := t.Value
			for {
				i := strings.IndexByte(v, '\n')
				if i < 0 || i == len(v)-1 {
					writeToken(&b, cls, v, bare)
					break
				}
				writeToken(&b, cls, v[:i+1], bare)
				v = v[i+1:]
			}
		}
	}
	// Kept until the end of the build (and in the cache file): no spare
	// capacity, a fifth of a build's live memory when the guess was high.
	if b.Cap() > b.Len()+b.Len()/8 {
		return strings.Clone(b.String())
	}
	return b.String()
}

// writeToken writes the text v of a token of class cls to b: in a span,
// unless cls is in bare.
func writeToken(b *strings.Builder, cls, v string, bare map[string]bool) {
	if bare[cls] {
		cls = ""
	}
	if cls != "" {
		b.WriteString(`<span class="`)
		b.WriteString(cls)
		b.WriteString(`">`)
	}
	textEscaper.WriteString(b, v)
	if cls != "" {
		b.WriteString("</span>")
	}
}

// textEscaper escapes what text in HTML must not hold as it is. Quotes
// need no escaping outside attributes: html.EscapeString's &#34; and &#39;
// were 4 bytes more per quote in every string literal.
var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escapeText is s as HTML text (not an attribute value).
func escapeText(s string) string { return textEscaper.Replace(s) }

// tokenClass is the CSS class of a token type: its own, or its nearest
// ancestor's, as chroma's formatter chooses it.
func tokenClass(t chroma.TokenType) string {
	for ; t != 0; t = t.Parent() {
		if cls, ok := chroma.StandardTypes[t]; ok {
			return cls
		}
	}
	return chroma.StandardTypes[t]
}

// themeCSS is the highlighting CSS of both themes, each inside its
// prefers-color-scheme media query (so that no rule of one theme leaks into
// the other), with colours raised to WCAG AA contrast.
func themeCSS() (string, error) {
	themes, err := codeThemes()
	if err != nil {
		return "", err
	}
	f := chtml.New(chtml.WithClasses(true), chtml.WithAllClasses(true))
	var b strings.Builder
	for _, t := range themes {
		fmt.Fprintf(&b, "@media (prefers-color-scheme: %s) {\n/* code highlighting: chroma %s, contrast raised to AA */\n", t.scheme, t.name)
		fmt.Fprintf(&b, "/* CodeHighlight */ .chroma .code-hl { background-color: %s }\n", t.tint)
		if err := f.WriteCSS(&b, t.style); err != nil {
			return "", fmt.Errorf("highlight css: %w", err)
		}
		b.WriteString("}\n")
	}
	return b.String(), nil
}

// codeTheme is one colour scheme's code style, as the site's CSS has it.
type codeTheme struct {
	scheme, name, tint string // "light", chroma's style name, the hl= line tint
	style              *chroma.Style
}

// codeThemes are the light and dark code styles: chroma's, with a text
// colour on the block when the style has none (lightText) and colours
// raised to WCAG AA.
func codeThemes() ([]codeTheme, error) {
	var out []codeTheme
	for _, t := range []struct{ scheme, name, tint, text string }{
		{"light", lightStyle, lightLineTint, lightText},
		{"dark", darkStyle, darkLineTint, ""},
	} {
		st := styles.Get(t.name)
		if st == styles.Fallback {
			return nil, fmt.Errorf("chroma style %q not found", t.name)
		}
		if bg := st.Get(chroma.Background); t.text != "" && !bg.Colour.IsSet() {
			bg.Colour = chroma.MustParseColour(t.text)
			var err error
			if st, err = st.Builder().AddEntry(chroma.Background, bg).Build(); err != nil {
				return nil, fmt.Errorf("style %s: %w", t.name, err)
			}
		}
		st, err := accessible(st, chroma.MustParseColour(t.tint))
		if err != nil {
			return nil, err
		}
		out = append(out, codeTheme{t.scheme, t.name, t.tint, st})
	}
	return out, nil
}
