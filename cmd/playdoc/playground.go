package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"playdoc"
	"playdoc/devserver"
	"playdoc/playground"
	"playdoc/sandbox"
	"playdoc/share"
	"playdoc/site"
)

// runPlayground serves the playground API alone (production).
func runPlayground(ctx context.Context, e *env, args []string) error {
	fset := newFlagSet(e, "playground")
	addr := fset.String("addr", "127.0.0.1:8081", "listen address")
	content := fset.String("content", "", "content folder whose runnable snippets are pre-built at start (default ./content if present, else the embedded tutorial)")
	data := fset.String("data", "", "data folder: module cache, build cache, binaries (default the user cache dir's playdoc/)")
	def := playground.DefaultConfig()
	maxBuilds := fset.Int("max-builds", def.MaxBuilds, "compilations at once")
	runners := fset.Int("runners", def.Runners, "programs compiling or running at once")
	queue := fset.Int("queue", def.Queue, "programs waiting for a runner before answering 503")
	rate := fset.Float64("rate", def.RateLimit, "run requests per second per client IP (negative: unlimited)")
	prepareOnly := fset.Bool("prepare-only", false, "fill the data folder (modules, warm build cache, sandbox init program) and exit, e.g. while building a container image")
	shareDB := fset.String("share-db", "", "SQLite database of the shared snippets (default $XDG_DATA_HOME/playdoc/shares.db, i.e. ~/.local/share/playdoc/shares.db)")
	perDay := fset.Int("share-per-day", 0, "new shared snippets per client IP and UTC day (default 1000; negative: unlimited)")
	bytesPerDay := fset.Int64("share-bytes-per-day", 0, "bytes of new shared snippets per client IP and UTC day (default 4 MiB; negative: unlimited)")
	dbURL := fset.String("db", "", "PostgreSQL database of the shared snippets, for several instances (postgres://user@host/db); replaces --share-db")
	baseURL := fset.String("base-url", "", "absolute URL of the site, for the canonical links of the pages it serves (default: base_url of the site configuration)")
	backup := fset.String("share-backup", "", "write a consistent copy of the share database to this new file, then exit (safe while a server runs)")
	runsMiB := fset.Int64("runs-memory-mib", 0, "memory of all running programs together, MiB, enforced on their parent cgroup (default half the machine's; in a container with a memory limit, set it below that limit)")
	runsWeight := fset.Int("runs-cpu-weight", 0, "CPU weight of all running programs together against the other playdoc sandboxes on the host, cgroup v2's scale 1-10000 (default the kernel's 100)")
	proxies := fset.String("trusted-proxies", "", "comma-separated addresses or CIDR prefixes of the load balancers in front of this server: their X-Forwarded-For names the client for the rate limit and share quotas (default none: the peer's address)")
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if *runsMiB < 0 {
		return fmt.Errorf("--runs-memory-mib %d: want 0 (the default) or more", *runsMiB)
	}
	if err := (sandbox.Totals{CPUWeight: *runsWeight}).Validate(); err != nil {
		return fmt.Errorf("--runs-cpu-weight: %w", err)
	}
	trusted, err := parsePrefixes(*proxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	if *backup != "" {
		return backupShares(ctx, e, *shareDB, *backup)
	}
	contentFS, _, err := playgroundContent(*content)
	if err != nil {
		return err
	}
	if *prepareOnly {
		*shareDB = ":memory:" // preparing shares nothing: no database to create
	}
	// The site too, so that a shared link (/p/ID) opens a playground page
	// with its stylesheet and script, and /play/ works, on this origin.
	var pages *site.Site
	if !*prepareOnly {
		pages = buildPlaygroundSite(ctx, e, *content, *baseURL)
	}
	var shares share.Store // nil: the server opens the SQLite file
	if *dbURL != "" && !*prepareOnly {
		pg, err := share.OpenPostgres(ctx, *dbURL, share.PostgresOptions{
			Limits: share.Limits{SharesPerDay: *perDay, BytesPerDay: *bytesPerDay}, Logger: e.log,
		})
		if err != nil {
			return err
		}
		defer pg.Close()
		shares = pg
	}
	srv, err := playground.NewServer(playground.Config{
		Shares:    shares,
		SharePage: sharePage(e.log, func() *site.Site { return pages }),
		DataDir:   *data, Prebuild: prebuildSources(e, contentFS), Logger: e.log, ShareDB: *shareDB,
		ShareLimits: share.Limits{SharesPerDay: *perDay, BytesPerDay: *bytesPerDay},
		MaxBuilds:   *maxBuilds, Runners: *runners, Queue: *queue, RateLimit: *rate,
		TrustedProxies: trusted, RunTotals: sandbox.Totals{Memory: *runsMiB << 20, CPUWeight: *runsWeight},
	})
	if err != nil {
		return err
	}
	if *prepareOnly {
		defer srv.Shutdown(context.Background())
		if err := srv.Ready(ctx); err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		if err := srv.InitReady(ctx); err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		e.log.Info("playground: data folder prepared", "data", srv.DataDir())
		return nil
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	handler := srv.Handler()
	if pages != nil {
		handler = newServeMux(devserver.WithCSP(pages.Handler()), srv.Handler())
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	e.log.Info("playground listening", "addr", "http://"+ln.Addr().String())
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	e.log.Info("playground shutting down: letting running programs finish")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var perr, herr error
	wg.Go(func() { perr = srv.Shutdown(sctx) })
	wg.Go(func() { herr = hs.Shutdown(sctx) })
	wg.Wait()
	if herr != nil && !errors.Is(herr, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", herr)
	}
	if perr != nil && !errors.Is(perr, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", perr)
	}
	return nil
}

// buildPlaygroundSite builds the site (content as serve finds it) in
// memory; nil if it does not build: /p/ID pages are then plain.
func buildPlaygroundSite(ctx context.Context, e *env, content, baseURL string) *site.Site {
	sf := siteFlags{content: content, baseURL: baseURL}
	cfg, err := sf.config(e)
	if err == nil {
		cfg.CacheDir = "" // highlight once, in memory
		var s *site.Site
		if s, err = site.New(cfg).Build(ctx); err == nil {
			return s
		}
	}
	e.log.Warn("playground: the site does not build; shared snippets get plain pages", "err", err)
	return nil
}

// backupShares copies the share database at path (default its default
// place) to dst with VACUUM INTO: a snapshot of one transaction, taken while
// servers keep writing.
func backupShares(ctx context.Context, e *env, path, dst string) error {
	if path == "" {
		var err error
		if path, err = share.DefaultPath(); err != nil {
			return err
		}
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("share database: %w", err)
	}
	st, err := share.OpenSQLite(ctx, path, share.SQLiteOptions{Logger: e.log})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Backup(ctx, dst); err != nil {
		return err
	}
	n, size, err := st.Stats(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backed up %d snippets (%d bytes of code) from %s to %s\n", n, size, path, dst)
	return nil
}

// prebuildSources returns the source of every runnable snippet of the
// content, for the playground to pre-build at start. A content error only
// costs the pre-build (the site reports it), so it is logged, not returned.
func prebuildSources(e *env, content fs.FS) []string {
	snips, err := site.LoadSnippets(content)
	if err != nil {
		e.log.Warn("playground: cannot pre-build the content's snippets", "err", err)
		return nil
	}
	var codes []string
	for _, sn := range snips {
		if sn.IsGo() { // only Go programs have a build to do ahead
			codes = append(codes, sn.Code)
		}
	}
	return codes
}

// playgroundContent opens the content: dir if given, else ./content if it
// exists, else the embedded tutorial (dir "" then: nothing to rewrite).
func playgroundContent(dir string) (fs.FS, string, error) {
	if dir == "" {
		if fi, err := os.Stat("content"); err == nil && fi.IsDir() {
			dir = "content"
		}
	}
	if dir == "" {
		sub, err := fs.Sub(playdoc.Content, "content")
		if err != nil {
			return nil, "", fmt.Errorf("embedded content: %w", err)
		}
		return sub, "", nil
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, "", fmt.Errorf("content folder %s: not a directory", dir)
	}
	return os.DirFS(dir), dir, nil
}

// parsePrefixes reads a comma-separated list of CIDR prefixes
// ("10.0.0.0/8") and single addresses (a /32 or /128); empty gives none.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
