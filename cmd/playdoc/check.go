package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"playdoc/playground"
	"playdoc/playground/api"
	"playdoc/sandbox"
	"playdoc/screen"
	"playdoc/site"
	"playdoc/snippet"
)

// checkResult is what one snippet did in the sandbox.
type checkResult struct {
	snippet  snippet.Snippet
	lines    []snippet.OutputLine
	wall     time.Duration
	problems []string // file:line-located messages
	update   bool     // the output block should be rewritten
	// retryable marks a failure that timing noise can cause (a mismatch,
	// a timeout), as opposed to one that repeats (a compile error).
	retryable bool
}

// runCheck runs every runnable snippet through the sandbox (the
// playground's own builder and runner) and compares with its expected
// output.
func runCheck(ctx context.Context, e *env, args []string) error {
	fset := newFlagSet(e, "check")
	content := fset.String("content", "", "content folder (default ./content if present, else the embedded tutorial)")
	update := fset.Bool("update", false, "rewrite the output blocks of the snippets that do not match")
	runPat := fset.String("run", "", "check only the snippets whose name matches this regular expression")
	data := fset.String("data", "", "playground data folder (default the user cache dir's playdoc/)")
	parallel := fset.Int("parallel", 4, "snippets run at once")
	retries := fset.Int("retries", 1, "run a mismatching snippet again up to this many times before reporting it (timing is noisy on a busy machine); with -update, the fastest of the runs is recorded")
	weight := fset.Int("runs-cpu-weight", 0, "CPU weight of the snippets' runs together against other playdoc sandboxes on the machine (cgroup v2's scale 1-10000, default the kernel's 100): more keeps their timing when a test suite's sandboxes run beside them")
	pause := fset.Duration("retry-pause", 3*time.Second, "wait this long before running a mismatching snippet again (times the try): a pause of the whole machine, which makes every snippet running then late together, is over by then")
	underLoad := fset.Bool("under-load", false, "keep every CPU busy with spinning threads while the snippets run, to show their expectations hold on a loaded machine")
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if err := (sandbox.Totals{CPUWeight: *weight}).Validate(); err != nil {
		return fmt.Errorf("-runs-cpu-weight: %w", err)
	}
	var filter *regexp.Regexp
	if *runPat != "" {
		re, err := regexp.Compile(*runPat)
		if err != nil {
			return fmt.Errorf("-run: %w", err)
		}
		filter = re
	}
	fsys, dir, err := playgroundContent(*content)
	if err != nil {
		return err
	}
	if dir == "" {
		warnEmbeddedContent(e)
	}
	if *update && dir == "" {
		return errors.New("-update needs a content folder on disk (-content DIR or ./content)")
	}
	snips, err := site.LoadSnippets(fsys)
	if err != nil {
		return err
	}
	var todo []snippet.Snippet
	for _, sn := range snips {
		if filter == nil || filter.MatchString(sn.Name) {
			todo = append(todo, sn)
		}
	}
	if len(todo) == 0 {
		return errors.New("no runnable snippet matches")
	}
	srv, err := playground.NewServer(playground.Config{
		DataDir: *data, Logger: e.log, RateLimit: -1, Runners: max(*parallel, 1), Queue: len(todo),
		ShareDB: ":memory:", // check shares nothing: no database on disk
		// Longer than a reader's limits (10 s to run, 30 s to compile): on a
		// loaded machine a snippet's output, not the public limit, is what
		// the check judges.
		RunTimeout: 30 * time.Second, CompileTimeout: 2 * time.Minute,
		RunTotals: sandbox.Totals{CPUWeight: *weight},
	})
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Ready(ctx); err != nil {
		return err
	}
	if *underLoad {
		hog := startCPUHog(runtime.NumCPU())
		defer hog.Stop()
		e.log.Info("check: every CPU is kept busy while the snippets run", "threads", hog.threads)
	}
	display := func(file string) string {
		if dir == "" {
			return filepath.Join("content", file)
		}
		return filepath.Join(dir, file)
	}

	results := make([]checkResult, len(todo))
	var wg sync.WaitGroup
	for i, sn := range todo {
		wg.Go(func() {
			r := checkSnippet(ctx, srv, sn, display(sn.File))
			for try := 1; try <= *retries && r.retryable && ctx.Err() == nil; try++ {
				if !*update {
					e.log.Warn("snippet did not match, running it again", "snippet", sn.Name, "try", try, "problem", r.problems[0])
					if !sleepCtx(ctx, time.Duration(try)*(*pause)) {
						break
					}
					r = checkSnippet(ctx, srv, sn, display(sn.File))
					continue
				}
				// -update records one run's output and wall time: of
				// several runs, the fastest, which the machine's load
				// disturbed least (one run on a busy machine once recorded
				// 1 s for a 300 ms sleep, which the next check, quiet,
				// found 650 ms early).
				e.log.Info("timing the snippet again before updating it", "snippet", sn.Name, "try", try)
				next := checkSnippet(ctx, srv, sn, display(sn.File))
				if len(next.problems) == 0 {
					r = next
					break
				}
				if next.update && (!r.update || next.wall < r.wall) {
					r = next
				}
			}
			results[i] = r
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}

	failed := 0
	for _, r := range results {
		for _, p := range r.problems {
			fmt.Fprintln(e.stdout, p)
		}
		if len(r.problems) > 0 {
			failed++
		}
	}
	if *update {
		n, err := rewriteOutputs(dir, results)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "updated the output of %d snippet(s)\n", n)
		return nil
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d snippets do not match their expected output", failed, len(results))
	}
	fmt.Fprintf(e.stdout, "ok: %d snippets match their expected output\n", len(results))
	return nil
}

// raceFound is the race detector's last line ("Found 2 data race(s)").
var raceFound = regexp.MustCompile(`^Found \d+ data race\(s\)$`)

// checkSnippet runs one snippet and compares its output.
func checkSnippet(ctx context.Context, srv *playground.Server, sn snippet.Snippet, file string) checkResult {
	r := checkResult{snippet: sn}
	where := func(line int) string { return fmt.Sprintf("%s:%d: snippet %s: ", file, line, sn.Name) }
	var exit api.Event
	var compileErr, serverErr *api.Event
	// The pieces make lines by the one definition of a line (package
	// screen): what a terminal would show.
	var scr screen.Screen
	lang := sn.Lang
	if lang == "" {
		lang = playground.LangGo
	}
	racyLines := map[int]bool{} // the snippet's lines the race detector named
	// A trace snippet runs traced, as its page runs it by default: its
	// lanes must come (the page's text describes them).
	var trace *api.Event
	err := srv.ExecuteWith(ctx, playground.RunOptions{Lang: lang, Race: sn.Race, Trace: sn.Trace}, sn.Code, func(ev api.Event) {
		switch ev.Kind {
		case api.KindTrace:
			trace = &ev
		case api.KindRace:
			for _, r := range ev.Races {
				for _, a := range r.Accesses {
					if a.EditorLine > 0 {
						racyLines[a.EditorLine] = true
					}
				}
			}
		case api.KindStdout, api.KindStderr:
			scr.Write(ev.Kind == api.KindStderr, float64(ev.T)/float64(time.Millisecond), ev.Data)
		case api.KindExit:
			exit = ev
		case api.KindCompileError:
			compileErr = &ev
		case api.KindError:
			serverErr = &ev
		}
	})
	switch {
	case err != nil:
		r.problems = append(r.problems, where(sn.Line)+err.Error())
		return r
	case compileErr != nil:
		if len(compileErr.Errors) == 0 {
			r.problems = append(r.problems, where(sn.Line)+"does not compile: "+compileErr.Message)
		}
		for _, d := range compileErr.Errors {
			// The code starts on the line after the fence.
			r.problems = append(r.problems, where(sn.Line+d.Line)+"does not compile: "+d.Msg)
		}
		return r
	case serverErr != nil:
		r.problems = append(r.problems, where(sn.Line)+serverErr.Message)
		return r
	}
	inReport := false
	for _, l := range scr.Lines() {
		// A race build's reports are checked by race=N, not as lines.
		// (Its blank lines have no stderr character: they count as stdout.)
		if sn.Race {
			switch {
			case l.Stderr && l.Text == "==================":
				inReport = !inReport
				continue
			case inReport, l.Stderr && raceFound.MatchString(l.Text):
				continue
			}
		}
		r.lines = append(r.lines, snippet.OutputLine{Text: l.Text, Stderr: l.Stderr})
	}
	if e := sn.Expected; e.CheckRaces && len(racyLines) != e.Races {
		r.problems = append(r.problems, where(e.Line)+fmt.Sprintf("the race detector named %d racy line(s) of the snippet %v, want race=%d", len(racyLines), slices.Sorted(maps.Keys(racyLines)), e.Races))
	}
	if sn.Trace && exit.Reason == api.ReasonNone && (trace == nil || trace.Trace == nil || len(trace.Trace.Lanes) == 0) {
		why := "no trace event"
		if trace != nil {
			why = trace.Message
		}
		r.problems = append(r.problems, where(sn.Line)+"trace: the run has no goroutine lanes: "+why)
		r.retryable = true
	}
	r.wall = exit.Wall
	if exit.Reason != api.ReasonNone {
		r.problems = append(r.problems, where(sn.Line)+exit.Message)
		r.retryable = true
		return r
	}
	wall := r.wall
	if sn.Expected.Duration > 0 && wall > sn.Expected.Duration {
		// Late: forgive what the machine's load explains (load.go).
		if empty, err := measureEmpty(ctx, srv, lang); err == nil {
			wall = judgedWall(costOf(exit), empty, sn.Expected.Duration)
		}
	}
	for _, m := range sn.Expected.Match(r.lines, wall) {
		r.problems = append(r.problems, where(m.Line)+m.Message)
		r.update = true
		r.retryable = true
	}
	return r
}

// rewriteOutputs rewrites the output blocks of the mismatching snippets,
// bottom up in each file so that earlier blocks keep their line numbers.
func rewriteOutputs(dir string, results []checkResult) (int, error) {
	byFile := map[string][]checkResult{}
	for _, r := range results {
		if r.update {
			byFile[r.snippet.File] = append(byFile[r.snippet.File], r)
		}
	}
	n := 0
	for file, rs := range byFile {
		path := filepath.Join(dir, filepath.FromSlash(file))
		src, err := os.ReadFile(path)
		if err != nil {
			return n, err
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].snippet.Expected.Line > rs[j].snippet.Expected.Line })
		for _, r := range rs {
			exp := r.snippet.Expected.Updated(r.lines, r.wall)
			src, err = snippet.RewriteExpected(src, r.snippet.Expected.Line, exp)
			if err != nil {
				return n, fmt.Errorf("%s:%w", path, err)
			}
			n++
		}
		fi, err := os.Stat(path)
		if err != nil {
			return n, err
		}
		if err := os.WriteFile(path, src, fi.Mode().Perm()); err != nil {
			return n, err
		}
	}
	return n, nil
}

// sleepCtx waits d or until ctx ends, and reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
