package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"playdoc"
	"playdoc/config"
	"playdoc/site"
)

// siteFlags are the flags build and serve share.
type siteFlags struct {
	content, static, baseURL, cache, configFile string
}

func (f *siteFlags) register(fs *flag.FlagSet, defaultBaseURL string) {
	fs.StringVar(&f.configFile, "config", "", "site configuration file (default: ./"+config.FileName+", else the one beside the content folder; the embedded tutorial's with the embedded content)")
	fs.StringVar(&f.content, "content", "", "content folder (default: ./content if it exists, else the embedded tutorial)")
	fs.StringVar(&f.static, "static", "", "static assets folder (default: ./templates/static if it exists, else the embedded assets)")
	fs.StringVar(&f.baseURL, "base-url", defaultBaseURL, "absolute URL of the site, for canonical links and the sitemap (default: base_url of the configuration)")
	fs.StringVar(&f.cache, "cache", "", "cache folder: highlighted code, parsed and rendered pages, git dates, checked external links (default: .cache/playdoc in a project, else the user cache folder)")
}

// dirs are the content and static folders on disk: the ones given by flag
// or found in the working directory ("" for the embedded copy).
func (f *siteFlags) dirs() (content, static string) {
	switch {
	case f.content != "":
		content = f.content
	case isDir("content"):
		content = "content"
	}
	switch {
	case f.static != "":
		static = f.static
	case isDir(filepath.Join("templates", "static")):
		static = filepath.Join("templates", "static")
	}
	return content, static
}

// configPath is the configuration file siteConfig reads first: the one
// `playdoc serve` watches (it may not exist yet).
func (f *siteFlags) configPath() string {
	switch {
	case f.configFile != "":
		return f.configFile
	case f.content != "":
		return filepath.Join(filepath.Dir(filepath.Clean(f.content)), config.FileName)
	}
	return config.FileName
}

// siteConfig finds and reads the site's playdoc.toml: the --config file;
// else, with --content, the one in the content folder's parent; else
// ./playdoc.toml; else,
// for the embedded tutorial, its embedded one; else a configuration with
// only a title.
func (f *siteFlags) siteConfig(contentDir string) (*config.Site, error) {
	// With --content, a site elsewhere: its own configuration.
	sc, err := config.Load(f.configPath())
	if err == nil || !errors.Is(err, fs.ErrNotExist) || f.configFile != "" {
		return sc, err
	}
	if contentDir == "" {
		return config.Parse(config.FileName+" (embedded)", playdoc.Config)
	}
	return config.Parse("(no "+config.FileName+")", []byte(`title = "Documentation"`))
}

// config resolves the flags and the site's playdoc.toml into a site
// configuration; the flags win.
func (f *siteFlags) config(e *env) (site.Config, error) {
	// A folder given by flag must exist: the file system of a missing one
	// fails later without its name ("stat .").
	for _, d := range []struct{ flag, dir string }{{"content", f.content}, {"static", f.static}} {
		if d.dir == "" {
			continue
		}
		switch fi, err := os.Stat(d.dir); {
		case errors.Is(err, fs.ErrNotExist):
			return site.Config{}, fmt.Errorf("--%s %s: no such folder", d.flag, d.dir)
		case err != nil:
			return site.Config{}, fmt.Errorf("--%s %s: %w", d.flag, d.dir, err)
		case !fi.IsDir():
			return site.Config{}, fmt.Errorf("--%s %s: not a folder", d.flag, d.dir)
		}
	}
	contentDir, staticDir := f.dirs()
	sc, err := f.siteConfig(contentDir)
	if err != nil {
		return site.Config{}, err
	}
	cfg := site.Config{BaseURL: sc.BaseURL, Logger: e.log, SiteTitle: sc.Title, Intro: sc.Description,
		Language: sc.Language, Footer: sc.Footer, PlaygroundURL: sc.PlaygroundURL,
		NavOrder: sc.Nav.Order, NavOrderLine: sc.Line("nav.order"), ConfigFile: sc.File, Redirects: sc.Redirects,
		Synonyms: sc.Search.Synonyms}
	if sc.Repository.Edit != "" {
		cfg.EditURL = sc.EditURL
	}
	if f.baseURL != "" {
		cfg.BaseURL = f.baseURL
	}
	if contentDir != "" {
		cfg.Content, cfg.ContentName = os.DirFS(contentDir), filepath.ToSlash(filepath.Clean(contentDir))
		cfg.Dates = site.GitDates(contentDir)
	} else {
		warnEmbeddedContent(e)
		sub, err := fs.Sub(playdoc.Content, "content")
		if err != nil {
			return cfg, fmt.Errorf("embedded content: %w", err)
		}
		cfg.Content, cfg.ContentName = sub, "content"
	}
	if staticDir != "" {
		cfg.Static = os.DirFS(staticDir)
	} else {
		sub, err := fs.Sub(playdoc.Static, "templates/static")
		if err != nil {
			return cfg, fmt.Errorf("embedded static assets: %w", err)
		}
		cfg.Static = sub
	}
	switch {
	case f.cache != "":
		cfg.CacheDir = f.cache
	case contentDir != "": // a project: its cache beside it
		cfg.CacheDir = filepath.Join(".cache", "playdoc")
	default:
		if dir, err := os.UserCacheDir(); err == nil {
			cfg.CacheDir = filepath.Join(dir, "playdoc")
		}
	}
	if contentDir != "" && cfg.CacheDir != "" {
		cfg.Dates = site.GitDatesCached(contentDir, filepath.Join(cfg.CacheDir, "git-dates.json"))
	}
	return cfg, nil
}

// warnEmbeddedContent says that a command found no ./content and uses
// the embedded tutorial, and, when the working folder looks like a site's
// content folder or a site without one, what to run instead: started in
// the wrong folder, build wrote the tutorial and serve showed it without
// a word.
func warnEmbeddedContent(e *env) {
	e.log.Warn("no content folder here: using the embedded tutorial (give --content DIR for a site of your own)")
	wd, err := os.Getwd()
	if err != nil {
		return
	}
	mds, _ := filepath.Glob("*.md")
	switch parent := filepath.Dir(wd); {
	case fileExists(filepath.Join(parent, config.FileName)):
		e.log.Warn("this folder looks like a site's content: run playdoc in " + parent + ", where " + config.FileName + " is")
	case fileExists(config.FileName):
		e.log.Warn(config.FileName + " is here but no content folder: give --content DIR")
	case len(mds) > 0:
		e.log.Warn("this folder has Markdown files: give --content . to build them")
	}
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// reportContentErrors prints every content error as file:line: message and
// returns a short error for the exit status; other errors pass through.
func reportContentErrors(e *env, err error) error {
	var list site.ErrorList
	if !errors.As(err, &list) {
		return err
	}
	for _, ce := range list {
		fmt.Fprintln(e.stderr, ce.Error())
	}
	if len(list) == 1 {
		return errors.New("1 error in the content")
	}
	return fmt.Errorf("%d errors in the content", len(list))
}

func runBuild(ctx context.Context, e *env, args []string) error {
	fset := newFlagSet(e, "build")
	var sf siteFlags
	sf.register(fset, "")
	out := fset.String("out", "public", "output folder (replaced only when the build succeeds)")
	checkExternal := fset.Bool("check-external", false, "also check links to other sites (HEAD requests; good answers cached for a day in the cache folder)")
	externalTimeout := fset.Duration("external-timeout", 10*time.Second, "with -check-external: how long each site may take to answer")
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	cfg, err := sf.config(e)
	if err != nil {
		return err
	}
	start := time.Now()
	if os.Getenv("GOMEMLIMIT") == "" {
		limit, err := buildMemoryLimit(cfg.Content)
		if err != nil {
			return fmt.Errorf("read content: %w", err)
		}
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
		if os.Getenv("GOGC") == "" {
			// The limit alone paces the collector (see buildGCPercent),
			// raised as the live heap grows past half of it.
			defer debug.SetGCPercent(debug.SetGCPercent(buildGCPercent))
			followCtx, stopFollow := context.WithCancel(ctx)
			followed := make(chan struct{})
			go func() { defer close(followed); followLiveHeap(followCtx) }()
			// Stopped before the deferred calls above restore the limit.
			defer func() { stopFollow(); <-followed }()
		}
	}
	b := site.New(cfg)
	if !*checkExternal {
		// The usual case: pages are written as they are rendered, and
		// dropped (memory does not grow with the output).
		s, err := b.BuildTo(ctx, *out)
		if err != nil {
			return reportContentErrors(e, err)
		}
		if err := b.SaveCache(s); err != nil {
			e.log.Warn("highlight cache not saved", "err", err)
		}
		reportBuilt(e, s, *out, start)
		return nil
	}
	// With -check-external, nothing is written unless every link works.
	s, err := b.Build(ctx)
	if err != nil {
		return reportContentErrors(e, err)
	}
	lc := &site.LinkChecker{Timeout: *externalTimeout}
	if cfg.CacheDir != "" {
		lc.CacheFile = filepath.Join(cfg.CacheDir, "external-links.json")
	}
	broken, err := lc.Check(ctx, s.ExternalLinks())
	if err != nil {
		return err
	}
	if len(broken) > 0 {
		return reportContentErrors(e, broken)
	}
	// The cache is saved while the output is written: one is CPU, the
	// other mostly waiting for the disk.
	saved := make(chan error, 1)
	go func() { saved <- b.SaveCache(s) }()
	werr := s.WriteDir(*out)
	if err := <-saved; err != nil {
		e.log.Warn("highlight cache not saved", "err", err)
	}
	if werr != nil {
		return werr
	}
	reportBuilt(e, s, *out, start)
	return nil
}

// The soft memory limit of a build (see buildMemoryLimit): a base for the
// binary's own data and the assets, and a multiple of the Markdown read.
// A cold build of the 1000-page corpus (6.5 MB of Markdown) holds at most
// ~55 MB live, 8.2x its Markdown; 10,000 pages (65 MB) ~615 MB, 9.5x.
const (
	memLimitBase       = 32 << 20
	memLimitPerContent = 12
)

// buildGCPercent is the collector's GOGC during a build that sets its
// memory limit (neither GOGC nor GOMEMLIMIT set): off, so that the heap
// grows to the limit before the collector runs. With GOGC at its default
// of 100 it collected whenever the heap doubled, 36 times in a cold build
// of the 1000-page corpus, most of them while the heap was far below the
// limit; off, 13 times, half the collector's CPU (GODEBUG=gctrace=1:
// ~500 -> ~250 ms), for the same peak RSS (the limit bounds it either way).
// When the live heap nears the limit the collector runs as often as it
// did with GOGC at 100 (it does so near the limit then too).
const buildGCPercent = -1

// buildMemoryLimit is the soft memory limit (bytes) for building the
// content in fsys, when GOMEMLIMIT does not set one: memLimitBase plus
// memLimitPerContent times the bytes of its Markdown files. Without a
// limit the collector lets the heap grow to twice the live data before it
// collects, and the runtime returns freed memory slowly: a cold build of
// the 1000-page corpus peaked at 167 MB RSS for 55 MB live; with this limit,
// sized above what the build keeps live (so that the collector does not run
// more often but near the peak), 142 MB. The limit is soft: a build that
// needs more gets it, at the cost of more frequent collections. Errors are
// those of listing the content.
func buildMemoryLimit(fsys fs.FS) (int64, error) {
	var md int64
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".md") {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		md += info.Size()
		return nil
	})
	if err != nil {
		return 0, err
	}
	return memLimitBase + memLimitPerContent*md, nil
}

// reportBuilt prints what a build wrote: "built 26 pages, 94 snippets (…
// files) into public in 1.2s", "1 page" and "1 snippet" in the singular.
func reportBuilt(e *env, s *site.Site, out string, start time.Time) {
	count := func(n int, noun string) string {
		if n == 1 {
			return "1 " + noun
		}
		return fmt.Sprintf("%d %ss", n, noun)
	}
	fmt.Fprintf(e.stdout, "built %s, %s (%d files) into %s in %v\n",
		count(len(s.Pages), "page"), count(len(s.Snippets), "snippet"), len(s.Files), out, time.Since(start).Round(time.Millisecond))
}
