package playground

import (
	"context"
	"errors"
	"time"
)

// buildResult is a program's binary, ready to run.
type buildResult struct {
	art    *Artifact     // pinned in the cache until art.Release
	cached bool          // taken from the cache, nothing compiled
	dur    time.Duration // compile (or cache lookup) time, the wait included
}

// flightMargin is how much longer than the compile time limit a shared
// compile may take before its context ends it: a backstop, since the
// builder enforces the limit itself.
const flightMargin = 10 * time.Second

// build returns p's binary from the cache, compiling it on a miss; the
// same program wanted by several runs at once is compiled once. A compile
// error is returned as a *CompileError (cached when a retry would repeat
// it).
func (s *Server) build(ctx context.Context, p *Program) (buildResult, error) {
	start := time.Now()
	key := p.Key(s.builder.toolchainID())
	if a, cerr, ok := s.cache.Get(key); ok {
		s.m.cacheHits.Inc()
		if cerr != nil {
			return buildResult{cached: true, dur: time.Since(start)}, cerr
		}
		return buildResult{art: a, cached: true, dur: time.Since(start)}, nil
	}
	s.m.cacheMisses.Inc()
	// The shared compile must not depend on the toolchain wait, which
	// only the caller's context bounds.
	if err := s.builder.waitReadyFor(ctx, p); err != nil {
		return buildResult{dur: time.Since(start)}, err
	}
	ch := s.flights.DoChan(key, func() (any, error) {
		// Others may wait on this compile: it outlives the client that
		// started it, bounded by the compile time limit and Shutdown.
		limit := s.cfg.CompileTimeout
		if p.Race {
			limit *= 3 // as Builder.compile allows
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit+flightMargin)
		defer cancel()
		defer context.AfterFunc(s.killCtx, cancel)()
		t0 := time.Now()
		bin, ws, err := s.builder.compile(fctx, p)
		if fctx.Err() == nil {
			s.m.compileDuration.Observe(time.Since(t0).Seconds())
		}
		if err != nil {
			var ce *CompileError
			if errors.As(err, &ce) && ce.Cacheable {
				s.cache.PutError(key, ce)
			}
			return nil, err
		}
		defer s.builder.release(ws)
		return nil, s.cache.PutBinary(key, bin)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return buildResult{dur: time.Since(start)}, r.Err
		}
	case <-ctx.Done():
		return buildResult{dur: time.Since(start)}, context.Cause(ctx)
	}
	a, cerr, ok := s.cache.Get(key)
	switch {
	case !ok:
		// Evicted between the put and this get by other programs.
		return buildResult{dur: time.Since(start)}, errors.New("the binary cache is too small for the programs being run: it evicted this one as soon as it was built")
	case cerr != nil:
		return buildResult{dur: time.Since(start)}, cerr
	}
	return buildResult{art: a, dur: time.Since(start)}, nil
}
