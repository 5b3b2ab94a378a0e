package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"playdoc/site"
)

// newServeMux is where `playdoc serve` mounts its parts on one port. The
// site is served from memory at "/". The playground API
// (playground.NewServer(...).Handler(): /api/, /compile, /fmt, /version,
// /healthz, /metrics) and live reload (/_playdoc/) are mounted here by
// their owners.
func newServeMux(siteHandler http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/", siteHandler)
	return mux
}

func runServe(ctx context.Context, e *env, args []string) error {
	fset := newFlagSet(e, "serve")
	addr := fset.String("addr", "127.0.0.1:8080", "address to listen on (host:port)")
	var sf siteFlags
	sf.register(fset, "")
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if sf.baseURL == "" {
		sf.baseURL = "http://" + *addr
	}
	cfg, err := sf.config(e)
	if err != nil {
		return err
	}
	b := site.New(cfg)
	s, err := b.Build(ctx)
	if err != nil {
		return reportContentErrors(e, err)
	}
	if err := b.SaveCache(s); err != nil {
		e.log.Warn("highlight cache not saved", "err", err)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           newServeMux(s.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
	}
	e.log.Info("serving", "url", "http://"+ln.Addr().String()+"/", "pages", len(s.Pages))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
