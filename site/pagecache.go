package site

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"playdoc/snippet"
)

// A build that writes to a folder (BuildTo) keeps, in the cache folder next
// to the highlight cache, what it learnt of each page (pageCacheFile) and
// what it wrote where (outputsFile). The next run then neither parses a
// page whose source did not change, nor renders or writes a page whose
// output would be the same bytes as a file it finds on disk: a rebuild
// with nothing changed only reads the sources, checks the site as a whole
// and writes the site-wide files (index, search index, sitemap).
//
// Both files start with a header (cacheMagic, the format's name and
// version; the binary's identity; the sha256 of the rest), so that a cache
// written by another build of playdoc, or truncated, or edited, is ignored
// as a whole: the build is then a cold one.
const (
	pageCacheFile = "pages.gob"
	outputsFile   = "outputs.gob"
	// termsFile holds the pages' search terms and excerpt files, the bulk
	// of what is known of a page: read only when the search index must be
	// made again (a page's text changed).
	termsFile  = "terms.gob"
	cacheMagic = "playdoc-cache 1\n"
)

// pageCache is what the last BuildTo learnt of each page: the results of
// parsing its source (by content file) and the output each page was last
// rendered to (by URL path).
type pageCache struct {
	Pages   map[string]*cachedPage  // by Page.File
	Renders map[string]renderRecord // by Page.URL
	// Search is the search index the last build wrote.
	Search searchRecord
	// prevRenders and prevSearch are what was read from disk (the build
	// replaces Renders and Search), to tell whether the cache changed.
	prevRenders map[string]renderRecord
	prevSearch  searchRecord
	// termsChanged: the build computed search terms that termsFile lacks.
	termsChanged bool
}

// searchRecord says that the search index of a site whose searchKey is Key
// is the files Files (name in searchDir → sha256 of the bytes).
type searchRecord struct {
	Key   [sha256.Size]byte
	Files map[string][sha256.Size]byte
}

// storedTerms is what the search index holds of a page (pageSearch).
type storedTerms struct {
	Terms  []string
	Scores []int
	Text   []byte
}

// pagesOrNil is pc's pages; nil when pc is nil.
func (pc *pageCache) pagesOrNil() map[string]*cachedPage {
	if pc == nil {
		return nil
	}
	return pc.Pages
}

// page is the cached page of content file f; nil if none (pc may be nil).
func (pc *pageCache) page(f string) *cachedPage {
	if pc == nil {
		return nil
	}
	return pc.Pages[f]
}

// renderRecord says that a page rendered under Key (see
// Builder.renderKey) is the bytes whose sha256 is Sum.
type renderRecord struct {
	Key [sha256.Size]byte
	Sum [sha256.Size]byte
}

// cachedPage is what the build needs of a page that it does not parse
// again: everything parsePage sets but the syntax tree (rendering parses
// the source again, see Builder.reparse), and the page's search terms and
// excerpt file.
type cachedPage struct {
	Hash                    [sha256.Size]byte // of the source
	Slug, URL               string
	IsIndex                 bool
	Title, Summary, Heading string
	Order                   int
	Headings                []Heading
	Snippets                []snippet.Snippet
	LastmodFM               time.Time
	Aliases                 []Alias
	OrderLine, SlugLine     int
	Refs                    []cachedRef
	IDs                     []string
	Codes                   []cachedCode
	TermsKey                [sha256.Size]byte // see termsKey; its terms are in termsFile
}

// cachedRef is a ref, exported for gob.
type cachedRef struct {
	Kind             refKind
	Dest             string
	Line             int
	NoAlt, Lazy, Raw bool
}

// cachedCode is a code block as the build needs it without rendering:
// its language and its highlight cache key.
type cachedCode struct {
	Lang, Key string
}

// newCachedPage records p.
func newCachedPage(p *Page) *cachedPage {
	e := &cachedPage{Hash: p.hash, Slug: p.Slug, URL: p.URL, IsIndex: p.IsIndex, Title: p.Title, Summary: p.Summary,
		Heading: p.Heading, Order: p.Order, Headings: p.Headings, LastmodFM: p.lastmodFM, Aliases: p.Aliases,
		OrderLine: p.orderLine, SlugLine: p.slugLine, TermsKey: p.termsKey}
	for _, s := range p.Snippets {
		// Without the code and its expected output (most of a page's
		// record): the build needs a snippet's place and name.
		e.Snippets = append(e.Snippets, snippet.Snippet{File: s.File, Line: s.Line, Page: s.Page, Name: s.Name, Lang: s.Lang,
			Compare: s.Compare, Trace: s.Trace, Race: s.Race, Pair: s.Pair})
	}
	for _, r := range p.refs {
		e.Refs = append(e.Refs, cachedRef{Kind: r.kind, Dest: r.dest, Line: r.line, NoAlt: r.noAlt, Lazy: r.lazy, Raw: r.raw})
	}
	for id := range p.ids {
		e.IDs = append(e.IDs, id)
	}
	for _, c := range p.codes {
		e.Codes = append(e.Codes, cachedCode{Lang: c.Lang, Key: c.key})
	}
	return e
}

// newStoredTerms records ps.
func newStoredTerms(ps *pageSearch) *storedTerms {
	t := &storedTerms{Terms: make([]string, len(ps.terms)), Scores: make([]int, len(ps.terms)), Text: ps.text}
	for i, ts := range ps.terms {
		t.Terms[i], t.Scores[i] = ts.term, ts.score
	}
	return t
}

// search is t as a pageSearch.
func (t *storedTerms) search() *pageSearch {
	ps := &pageSearch{terms: make([]termScore, len(t.Terms)), text: t.Text}
	for i, term := range t.Terms {
		ps.terms[i] = termScore{term, t.Scores[i]}
	}
	return ps
}

// page rebuilds the Page of content file file (shown as display) from the
// cache, its tree released (see Page.releaseTree).
func (e *cachedPage) page(file, display string) *Page {
	p := &Page{File: file, Path: display, Slug: e.Slug, URL: e.URL, IsIndex: e.IsIndex, Title: e.Title,
		Summary: e.Summary, Heading: e.Heading, Order: e.Order, Headings: e.Headings, lastmodFM: e.LastmodFM,
		Aliases: e.Aliases, orderLine: e.OrderLine, slugLine: e.SlugLine, hash: e.Hash, termsKey: e.TermsKey,
		treeReleased: true, fromCache: true, ids: make(map[string]bool, len(e.IDs))}
	for i := range e.Snippets {
		s := e.Snippets[i]
		p.Snippets = append(p.Snippets, &s)
	}
	for _, r := range e.Refs {
		p.refs = append(p.refs, ref{kind: r.Kind, dest: r.Dest, line: r.Line, noAlt: r.NoAlt, lazy: r.Lazy, raw: r.Raw})
	}
	for _, id := range e.IDs {
		p.ids[id] = true
	}
	for _, c := range e.Codes {
		p.codes = append(p.codes, &codeNode{Lang: c.Lang, key: c.Key})
	}
	return p
}

// outputs is what the last builds wrote into the output folder and its
// staging folder (see BuildTo), by folder: a folder's identity (device
// and inode, which stay with it when the two are swapped) → slash path →
// stamp. A file whose stamp still matches holds the bytes recorded.
type outputs struct {
	Dirs map[string]map[string]fileStamp
}

// stamp is the recorded stamp of slash path p in the folder of identity
// dir; false when none is (o may be nil).
func (o *outputs) stamp(dir, p string) (fileStamp, bool) {
	if o == nil || dir == "" {
		return fileStamp{}, false
	}
	st, ok := o.Dirs[dir][p]
	return st, ok
}

// fileStamp identifies the bytes of an output file as written: their
// sha256, and what the file system says of the file then. A file edited
// or replaced by hand no longer matches (its size, modification time or
// inode differ).
type fileStamp struct {
	Sum     [sha256.Size]byte
	Size    int64
	ModTime int64 // ns since the epoch
	Ino     uint64
}

// stampOf is the stamp of a file with sum, as fi describes it.
func stampOf(sum [sha256.Size]byte, fi fs.FileInfo) fileStamp {
	ino, _ := fileIdentity(fi)
	return fileStamp{Sum: sum, Size: fi.Size(), ModTime: fi.ModTime().UnixNano(), Ino: ino}
}

// matches reports whether fi is still the file st was taken of.
func (st fileStamp) matches(fi fs.FileInfo) bool {
	ino, ok := fileIdentity(fi)
	return ok && fi.Mode().IsRegular() && ino == st.Ino && fi.Size() == st.Size && fi.ModTime().UnixNano() == st.ModTime
}

// dirIdentity names folder dir by device and inode; "" when the system
// does not tell, or dir does not exist (nothing in it is then reused).
func dirIdentity(dir string) string {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() {
		return ""
	}
	ino, ok := fileIdentity(fi)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%d:%d", fileDevice(fi), ino)
}

// binaryID identifies the running program's code (which holds the
// templates, parser and highlighter): its Go build ID, from the ELF note
// the linker writes or the marker at the start of the text; else the
// sha256 of the whole executable.
func binaryID() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if ef, err := elf.Open(exe); err == nil {
		id := elfBuildID(ef)
		ef.Close()
		if id != "" {
			return "go:" + id, nil
		}
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer f.Close()
	// Without the note, the ID is near the start of the text
	// (cmd/internal/buildid reads the first 32 KB for it).
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", err
	}
	const mark = "\xff Go build ID: \""
	if i := bytes.Index(head[:n], []byte(mark)); i >= 0 {
		rest := head[i+len(mark) : n]
		if j := bytes.IndexByte(rest, '"'); j > 0 {
			return "go:" + string(rest[:j]), nil
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil)), nil
}

// elfBuildID is the Go build ID in the .note.go.buildid section of ef; ""
// if there is none.
func elfBuildID(ef *elf.File) string {
	sec := ef.Section(".note.go.buildid")
	if sec == nil {
		return ""
	}
	data, err := sec.Data()
	if err != nil || len(data) < 12 {
		return ""
	}
	// A note: name size, description size, type, the name padded to 4
	// bytes ("Go\x00\x00"), the description (the ID).
	namesz := ef.ByteOrder.Uint32(data[0:4])
	descsz := ef.ByteOrder.Uint32(data[4:8])
	off := 12 + (uint64(namesz)+3)&^3
	if off+uint64(descsz) > uint64(len(data)) {
		return ""
	}
	return string(data[off : off+uint64(descsz)])
}

// readCacheFile decodes file (written by writeCacheFile for program id)
// into v. A missing file is (false, nil); a file of another program, or
// damaged, is an error, and v is then to be ignored.
func readCacheFile(file, id string, v any) (bool, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", file, err)
	}
	head := cacheMagic + id + "\n"
	if !bytes.HasPrefix(data, []byte(head)) {
		return false, fmt.Errorf("%s: written by another version of playdoc or damaged", file)
	}
	data = data[len(head):]
	if len(data) < sha256.Size {
		return false, fmt.Errorf("%s: truncated", file)
	}
	sum, body := data[:sha256.Size], data[sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return false, fmt.Errorf("%s: damaged (checksum mismatch)", file)
	}
	if u, ok := v.(encoding.BinaryUnmarshaler); ok {
		if err := u.UnmarshalBinary(body); err != nil {
			return false, fmt.Errorf("decode %s: %w", file, err)
		}
		return true, nil
	}
	if err := gob.NewDecoder(bytes.NewReader(body)).Decode(v); err != nil {
		return false, fmt.Errorf("decode %s: %w", file, err)
	}
	return true, nil
}

// writeCacheFile writes v to file atomically (a temporary file renamed),
// with the header readCacheFile checks: gob, or v's own encoding when it
// has one (encoding.BinaryMarshaler).
func writeCacheFile(file, id string, v any) error {
	var body bytes.Buffer
	if m, ok := v.(encoding.BinaryMarshaler); ok {
		data, err := m.MarshalBinary()
		if err != nil {
			return fmt.Errorf("encode %s: %w", file, err)
		}
		body = *bytes.NewBuffer(data)
	} else if err := gob.NewEncoder(&body).Encode(v); err != nil {
		return fmt.Errorf("encode %s: %w", file, err)
	}
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create cache dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(file)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	sum := sha256.Sum256(body.Bytes())
	bw := bufio.NewWriterSize(tmp, 256<<10)
	bw.WriteString(cacheMagic + id + "\n")
	bw.Write(sum[:])
	bw.Write(body.Bytes())
	werr := bw.Flush()
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}

// searchIndex adds the search index's files to site: with w and pc, the
// last build's files, left on disk, when nothing the index is made of
// changed (see searchKey); else made from every page's terms, those of the
// pages from the page cache read from termsFile (or their source, when it
// lacks them).
func (b *Builder) searchIndex(site *Site, w *dirWriter, pc *pageCache) error {
	pages := site.Pages
	for _, p := range pages {
		if p.termsKey == ([sha256.Size]byte{}) {
			p.termsKey = termsKey(p)
		}
	}
	key := searchKey(pages, b.cfg.Synonyms)
	if w != nil && pc != nil && pc.Search.Key == key && len(pc.Search.Files) > 0 && reuseSearch(site, w, pc.Search.Files) {
		return nil
	}
	if err := b.fillTerms(pages, pc); err != nil {
		return err
	}
	terms, err := cachedTerms(b.terms, pages)
	if err != nil {
		return err
	}
	ix, err := buildSearch(pages, terms, b.cfg.Synonyms)
	if err != nil {
		return err
	}
	rec := searchRecord{Key: key, Files: make(map[string][sha256.Size]byte, len(ix.files))}
	for name, body := range ix.files {
		site.add(searchDir+name, body, "")
		if pc != nil {
			rec.Files[name] = sha256.Sum256(body)
		}
	}
	if pc != nil {
		pc.Search, pc.termsChanged = rec, true
	}
	return nil
}

// reuseSearch gives site the search files the last build wrote (name →
// sha256), left on disk, if w still finds all of them.
func reuseSearch(site *Site, w *dirWriter, files map[string][sha256.Size]byte) bool {
	var g errgroup.Group
	g.SetLimit(2 * runtime.GOMAXPROCS(0))
	var mu sync.Mutex
	ok := true
	for name, sum := range files {
		g.Go(func() error {
			if !w.reuse(searchDir+name, sum) {
				mu.Lock()
				ok = false
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	if !ok {
		return false // the rest is written again, as the files just kept are
	}
	for name := range files {
		site.Files[searchDir+name] = &File{Path: searchDir + name, streamed: true}
	}
	return true
}

// searchKey is a hash of what the search index is made of: each page's
// URL, title, section and terms (termsKey), in order, and the synonyms.
func searchKey(pages []*Page, synonyms map[string][]string) [sha256.Size]byte {
	h := sha256.New()
	for _, p := range pages {
		sec := "-"
		if p.Section != nil {
			sec = p.Section.URL + "\x00" + p.Section.Title
		}
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%x\x00", p.URL, p.Title, sec, p.termsKey)
	}
	for _, k := range slices.Sorted(maps.Keys(synonyms)) {
		fmt.Fprintf(h, "%q=%q\x00", k, synonyms[k])
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// fillTerms gives b.terms the search terms of the pages from the page
// cache: from termsFile, else from their source, parsed again.
func (b *Builder) fillTerms(pages []*Page, pc *pageCache) error {
	var stored termsStore
	read := false
	for _, p := range pages {
		if !p.fromCache || b.terms[p.termsKey] != nil {
			continue
		}
		if !read && pc != nil {
			read = true
			stored = termsStore{}
			if _, err := readCacheFile(filepath.Join(b.cfg.CacheDir, termsFile), b.binID, stored); err != nil {
				b.cfg.Logger.Warn("search terms cache ignored", "err", err)
				stored = nil
			}
		}
		if t := stored[p.termsKey]; t != nil {
			b.terms[p.termsKey] = t.search()
			continue
		}
		src, err := fs.ReadFile(b.cfg.Content, p.File)
		if err != nil {
			return fmt.Errorf("read content: %w", err)
		}
		np, errs := parsePage(p.File, p.Path, src, b.md)
		if err := errs.err(); err != nil {
			return err
		}
		if np.hash != p.hash {
			return fmt.Errorf("%s changed during the build; build again", p.Path)
		}
		scores := pageTerms(np)
		ps := &pageSearch{terms: make([]termScore, 0, len(scores))}
		for t, s := range scores {
			ps.terms = append(ps.terms, termScore{t, s})
		}
		if ps.text, err = pageTextJSON(np); err != nil {
			return err
		}
		b.terms[p.termsKey] = ps
	}
	return nil
}

// termsStore is termsFile's content: each page's search terms and excerpt
// file, by termsKey. It has an encoding of its own, a few length-prefixed
// strings per term: gob spent half a second of a cold build's CPU on it.
type termsStore map[[sha256.Size]byte]*storedTerms

// MarshalBinary encodes the store: the number of pages, then for each its
// key, the number of its terms, each term (length, bytes) and its score,
// then its excerpt file (length, bytes); numbers as uvarints.
func (ts termsStore) MarshalBinary() ([]byte, error) {
	// Sized exactly: the bound of MaxVarintLen64 per number was twice the
	// store (10 MB for the 1000-page corpus), zeroed for nothing.
	n := uvarintLen(uint64(len(ts)))
	for _, t := range ts {
		n += sha256.Size + uvarintLen(uint64(len(t.Terms))) + uvarintLen(uint64(len(t.Text))) + len(t.Text)
		for i, term := range t.Terms {
			n += uvarintLen(uint64(len(term))) + len(term)
			if i < len(t.Scores) {
				n += uvarintLen(uint64(t.Scores[i]))
			}
		}
	}
	b := make([]byte, 0, n)
	b = binary.AppendUvarint(b, uint64(len(ts)))
	for k, t := range ts {
		if len(t.Scores) != len(t.Terms) {
			return nil, errors.New("terms and scores differ in number")
		}
		b = append(b, k[:]...)
		b = binary.AppendUvarint(b, uint64(len(t.Terms)))
		for i, term := range t.Terms {
			b = binary.AppendUvarint(b, uint64(len(term)))
			b = append(b, term...)
			b = binary.AppendUvarint(b, uint64(t.Scores[i]))
		}
		b = binary.AppendUvarint(b, uint64(len(t.Text)))
		b = append(b, t.Text...)
	}
	return b, nil
}

// uvarintLen is the length of v as a uvarint (binary.AppendUvarint).
func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// UnmarshalBinary decodes what MarshalBinary wrote into ts (which must
// not be nil), refusing anything that does not fit.
func (ts termsStore) UnmarshalBinary(data []byte) error {
	r := byteReader{b: data}
	pages := r.uvarint()
	for i := uint64(0); i < pages && r.err == nil; i++ {
		var k [sha256.Size]byte
		copy(k[:], r.bytes(sha256.Size))
		nt := r.uvarint()
		if nt > uint64(len(r.b)) { // every term takes a byte at least
			r.fail()
			break
		}
		t := &storedTerms{Terms: make([]string, nt), Scores: make([]int, nt)}
		for j := range t.Terms {
			t.Terms[j] = string(r.bytes(r.uvarint()))
			t.Scores[j] = int(r.uvarint())
		}
		t.Text = bytes.Clone(r.bytes(r.uvarint()))
		ts[k] = t
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail()
	}
	return r.err
}

// byteReader reads uvarints and byte strings off b; after the first
// malformed or missing one, err is set and every read gives zero values.
type byteReader struct {
	b   []byte
	err error
}

func (r *byteReader) fail() {
	if r.err == nil {
		r.err = errors.New("malformed data")
	}
	r.b = nil
}

func (r *byteReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *byteReader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}
