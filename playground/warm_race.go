package playground

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// warmRaceStd are the packages warmed for race builds: those of the
// concurrency examples (a race build of net/http cold takes minutes).
var warmRaceStd = []string{
	"context", "errors", "fmt", "math/rand/v2", "os", "runtime", "slices", "sort",
	"strconv", "strings", "sync", "sync/atomic", "time",
}

// startRaceWarm warms the cache for race builds once, when the first
// race build asks for it (most servers never see one), after prepare;
// raceReady closes when it is done.
func (b *Builder) startRaceWarm() {
	b.raceOnce.Do(func() {
		go func() {
			defer close(b.raceReady)
			<-b.ready
			if b.cc == nil || b.prepErr != nil || b.bgCtx == nil {
				return // race builds fail at once, saying why
			}
			start := time.Now()
			if err := b.warmRace(b.bgCtx); err != nil {
				b.log.Error("playground: could not warm the build cache for race builds; they will be slow", "err", err)
			}
			b.log.Info("playground: toolchain ready", "stage", "race detector", "ms", time.Since(start).Milliseconds())
		}()
	})
}

// warmRace compiles the common standard packages with -race (and
// runtime/cgo with gcc) into the warm cache, once per toolchain: cold,
// a race build of a hello world takes longer than the compile limit.
func (b *Builder) warmRace(ctx context.Context) error {
	var src strings.Builder
	src.WriteString("package main\n\nimport (\n")
	for _, p := range warmRaceStd {
		fmt.Fprintf(&src, "\t_ %q\n", p)
	}
	src.WriteString(")\n\nfunc main() {}\n")
	prog := &Program{Files: map[string][]byte{"prog.go": []byte(src.String())}, Race: true}
	marker := filepath.Join(b.goCache, ".playdoc-warm-race-"+shortHash(b.toolchainID()+string(prog.Files["prog.go"])+strings.Join(b.goArgs(prog), " ")))
	return b.warmOnce(ctx, marker, func() error {
		ws, err := b.runGo(ctx, prog, b.goArgs(prog), true, b.limits.WarmTimeout)
		if err != nil {
			return err
		}
		b.release(ws)
		return nil
	})
}
