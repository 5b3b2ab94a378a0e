package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"playdoc/devserver"
	"playdoc/playground"
	"playdoc/site"
)

// playgroundPaths are the playground API's routes (docs/contracts.md §3),
// mounted on the site's own origin.
func playgroundPaths() []string {
	return []string{"/api/", "/compile", "/fmt", "/share", "/p/", "/version", "/healthz", "/metrics"}
}

// newServeMux mounts the parts of `playdoc serve` on one port: the site and
// live reload (dev), and the playground API (pg, nil when disabled).
func newServeMux(dev http.Handler, pg http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/", dev)
	if pg != nil {
		for _, p := range playgroundPaths() {
			mux.Handle(p, pg)
		}
	}
	return mux
}

func runServe(ctx context.Context, e *env, args []string) error {
	fset := newFlagSet(e, "serve")
	addr := fset.String("addr", "127.0.0.1:8080", "address to listen on (host:port)")
	noPlayground := fset.Bool("no-playground", false, "serve the site without the playground API")
	data := fset.String("data", "", "playground data folder: module cache, build cache, binaries (default the user cache dir's playdoc/)")
	shareDB := fset.String("share-db", "", "SQLite database of the shared snippets (default $XDG_DATA_HOME/playdoc/shares.db)")
	remote := fset.String("playground", "", "forward the playground API to the playground backend at `URL` (e.g. playdoc playground on a Linux host) instead of running one here")
	var sf siteFlags
	sf.register(fset, "")
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if *noPlayground && *remote != "" {
		fmt.Fprintln(e.stderr, "--no-playground and --playground exclude each other")
		return errUsage
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	if sf.baseURL == "" {
		sf.baseURL = base
	}
	cfg, err := sf.config(e)
	if err != nil {
		return err
	}
	if !*noPlayground {
		cfg.PlaygroundURL = "" // this server's own playground answers
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var pg *playground.Server
	var pgHandler http.Handler
	var dev *devserver.Server // set below; /p/ID pages use its current site
	switch {
	case *remote != "":
		// No local sandbox: the backend elsewhere compiles and runs.
		if pgHandler, err = newPlaygroundProxy(*remote, e.log); err != nil {
			return err
		}
		e.log.Info("playground: forwarding to a remote backend", "backend", *remote)
	case !*noPlayground:
		pg, err = playground.NewServer(playground.Config{
			SharePage: sharePage(e.log, func() *site.Site { return dev.Site() }),
			Prebuild:  prebuildSources(e, cfg.Content), Logger: e.log, DataDir: *data, ShareDB: *shareDB,
			// One local reader: the production limit (2 runs/s per IP,
			// burst 20) would refuse a "Run all" of a compare bar clicked
			// twice. Still bounded in case --addr exposes it; the runners
			// and the queue bound the load anyway.
			RateLimit: 50, RateBurst: 200,
		})
		switch {
		case errors.Is(err, errors.ErrUnsupported):
			// Not Linux: the site and live reload work all the same, and
			// the page says why Run shows the recorded output.
			e.log.Warn("playground unavailable: serving the site without it; --playground URL forwards to a playground running on Linux", "err", err)
			pgHandler = unavailablePlayground(err)
		case err != nil:
			return fmt.Errorf("playground: %w", err)
		default:
			pgHandler = pg.Handler()
		}
	}

	contentDir, staticDir := sf.dirs()
	var onBuild func(old, cur *site.Site)
	if pg != nil {
		// Snippets edited while serving are pre-built once the edits
		// settle, so that pressing Run skips the compiler.
		rw := devserver.NewRewarmer(devserver.DefaultWarmDelay, func(codes []string) { pg.Warm(ctx, codes) })
		defer rw.Stop()
		onBuild = rw.OnBuild
	}
	// An edit of playdoc.toml rebuilds with it, under the same flags.
	reload := func() (site.Config, error) {
		c, err := sf.config(e)
		if err == nil && !*noPlayground {
			c.PlaygroundURL = ""
		}
		return c, err
	}
	dev = devserver.New(devserver.Config{
		Site:       cfg,
		ConfigFile: sf.configPath(),
		Reload:     reload,
		ContentDir: contentDir,
		StaticDir:  staticDir,
		Logger:     e.log,
		Errors:     e.stderr,
		OnBuild:    onBuild,
	})
	var wg sync.WaitGroup
	runErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		runErr <- dev.Run(ctx)
	}()

	srv := &http.Server{
		Handler:           newServeMux(dev.Handler(), pgHandler),
		ReadHeaderTimeout: 10 * time.Second,
	}
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(ln) }()
	fmt.Fprintf(e.stdout, "playdoc serve: %s/\n", base)

	var result error
	select {
	case err := <-srvErr:
		result = fmt.Errorf("serve: %w", err)
	case err := <-runErr:
		if err != nil {
			result = err
		}
	case <-ctx.Done():
	}
	cancel()
	dev.Close() // ends the event streams, which never end by themselves
	if pg != nil {
		// First the programs, so that their output streams end and
		// the HTTP server has no request left to wait for.
		pgCtx, stop := context.WithTimeout(context.Background(), 3*time.Second)
		if err := pg.Shutdown(pgCtx); err != nil && result == nil {
			result = fmt.Errorf("playground shutdown: %w", err)
		}
		stop()
	}
	shutCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if err := srv.Shutdown(shutCtx); err != nil && result == nil {
		result = fmt.Errorf("shutdown: %w", err)
	}
	wg.Wait()
	if err := dev.SaveCache(); err != nil {
		e.log.Warn("highlight cache not saved", "err", err)
	}
	return result
}
