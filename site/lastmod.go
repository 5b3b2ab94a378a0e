package site

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DateSource gives the content files' last update times: files are paths
// relative to the content folder ("asyncio/05-gather.md"); a file it
// knows nothing of is left out of the map.
type DateSource func(ctx context.Context, files []string) (map[string]time.Time, error)

// GitDates is the DateSource of a content folder on disk: each file's last
// commit time (one `git log` for the whole folder, newest first, so that
// a thousand pages cost one process, not a thousand), else, for a file
// git does not track or outside a repository, its modification time. The
// log is read once, on first use: `playdoc serve` rebuilds on every edit,
// and commits made while it runs show at its next start.
func GitDates(dir string) DateSource { return GitDatesCached(dir, "") }

// GitDatesCached is GitDates keeping the log's dates in cacheFile ("" for
// none), for as long as the history git shows stays the same: the commit
// HEAD names and the shallow clone's boundary (.git/shallow: `git fetch
// --unshallow` or `--deepen` changes what the log reaches without moving
// HEAD). `git log` walks the whole history (a quarter of a second for
// this repository's 400 commits under load, half of a rebuild that
// renders nothing), `git rev-parse` does not. A cache file that cannot be
// read is ignored; one that cannot be written is left as it was.
func GitDatesCached(dir, cacheFile string) DateSource {
	var once sync.Once
	var logged map[string]time.Time
	return func(ctx context.Context, files []string) (map[string]time.Time, error) {
		once.Do(func() { logged = cachedGitLog(ctx, dir, cacheFile) })
		dates := make(map[string]time.Time, len(files))
		for _, f := range files {
			if t, ok := logged[f]; ok {
				dates[f] = t
			}
		}
		for _, f := range files {
			if _, ok := dates[f]; ok {
				continue
			}
			if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err == nil {
				dates[f] = st.ModTime().UTC().Truncate(time.Second)
			}
		}
		return dates, nil
	}
}

// gitDatesCache is the content of GitDatesCached's file.
type gitDatesCache struct {
	Dir   string               // the content folder, absolute
	Head  string               // historyKey's: the commit HEAD named and the shallow boundary
	Dates map[string]time.Time // gitLog's
}

// cachedGitLog is gitLog(ctx, dir), from cacheFile when the history is
// the one it was written from (historyKey; written there when it was not).
func cachedGitLog(ctx context.Context, dir, cacheFile string) map[string]time.Time {
	if cacheFile == "" {
		return gitLog(ctx, dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return gitLog(ctx, dir)
	}
	head, err := historyKey(ctx, dir)
	if err != nil {
		return map[string]time.Time{} // not in a repository, or no commit yet
	}
	var c gitDatesCache
	if data, err := os.ReadFile(cacheFile); err == nil && json.Unmarshal(data, &c) == nil &&
		c.Dir == abs && c.Head == head && c.Dates != nil {
		return c.Dates
	}
	dates := gitLog(ctx, dir)
	if data, err := json.Marshal(gitDatesCache{Dir: abs, Head: head, Dates: dates}); err == nil {
		_ = writeFileAtomic(cacheFile, data) // a cache: the dates are right either way
	}
	return dates
}

// historyKey names the history `git log` sees from dir: HEAD's commit,
// and for a shallow clone the sha256 of .git/shallow, the commits whose
// parents it lacks. Errors: dir is not in a repository, or HEAD names no
// commit yet.
func historyKey(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "HEAD", "--git-path", "shallow").Output()
	if err != nil {
		return "", fmt.Errorf("git rev-parse in %s: %w", dir, err)
	}
	head, shallow, ok := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if !ok {
		return "", fmt.Errorf("git rev-parse in %s: unexpected output %q", dir, out)
	}
	head, shallow = strings.TrimSpace(head), strings.TrimSpace(shallow)
	if !filepath.IsAbs(shallow) { // relative to dir
		shallow = filepath.Join(dir, shallow)
	}
	grafts, err := os.ReadFile(shallow)
	switch {
	case errors.Is(err, fs.ErrNotExist): // a complete history
		return head, nil
	case err != nil:
		return "", fmt.Errorf("reading the shallow boundary: %w", err)
	}
	sum := sha256.Sum256(grafts)
	return head + " shallow " + hex.EncodeToString(sum[:]), nil
}

// writeFileAtomic writes data to file through a temporary file renamed
// over it, so that a reader never sees half of it.
func writeFileAtomic(file string, data []byte) error {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(file)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	if err := errors.Join(werr, tmp.Close()); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// gitLog maps each file under dir that git tracks to its last commit's
// committer date; empty when dir is not in a repository or git is missing.
func gitLog(ctx context.Context, dir string) map[string]time.Time {
	dates := map[string]time.Time{}
	// %x01 marks a commit's line; --relative names files from dir.
	cmd := exec.CommandContext(ctx, "git", "-c", "core.quotePath=false", "-C", dir,
		"log", "--relative", "--name-only", "--format=%x01%cI", "--", ".")
	out, err := cmd.Output()
	if err != nil {
		return dates
	}
	var cur time.Time
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "\x01"):
			cur, err = time.Parse(time.RFC3339, line[1:])
			if err != nil {
				cur = time.Time{}
			}
		case line != "" && !cur.IsZero():
			if _, seen := dates[line]; !seen { // newest first
				dates[line] = cur.UTC()
			}
		}
	}
	return dates
}

// lastmodLayouts are the forms front matter's lastmod may take.
var lastmodLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"}

// parseLastmod reads front matter's lastmod value.
func parseLastmod(v string) (time.Time, error) {
	for _, l := range lastmodLayouts {
		if t, err := time.Parse(l, strings.TrimSpace(v)); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid lastmod %q (want a date like 2026-01-31 or 2026-01-31T15:04:05Z)", v)
}

// datePages sets each page's LastMod: its front matter's lastmod, else
// the date source's, else none.
func (b *Builder) datePages(ctx context.Context, pages []*Page) error {
	var dates map[string]time.Time
	if b.cfg.Dates != nil {
		files := make([]string, 0, len(pages))
		for _, p := range pages {
			if p.File != "" {
				files = append(files, p.File)
			}
		}
		var err error
		if dates, err = b.cfg.Dates(ctx, files); err != nil {
			return fmt.Errorf("page dates: %w", err)
		}
	}
	for _, p := range pages {
		p.LastMod = p.lastmodFM
		if p.LastMod.IsZero() && p.File != "" {
			p.LastMod = dates[p.File]
		}
	}
	return nil
}
