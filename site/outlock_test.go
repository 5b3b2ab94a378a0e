package site

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"playdoc/internal/testenv"
)

// TestBuildWaitsForTheOutputLock: while another build holds the output
// folder's lock, BuildTo says it waits, writes nothing, and builds the
// whole site once the lock is released.
func TestBuildWaitsForTheOutputLock(t *testing.T) {
	out := filepath.Join(t.TempDir(), "public")
	unlock, err := lockOutput(context.Background(), out, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs testenv.SyncBuffer
	cfg := fixtureConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	done := make(chan error, 1)
	go func() {
		_, err := New(cfg).BuildTo(context.Background(), out)
		done <- err
	}()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(logs.String(), "waiting for another build"); {
		select {
		case err := <-done:
			unlock()
			t.Fatalf("BuildTo returned (%v) while another build held the output's lock", err)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			unlock()
			t.Fatalf("BuildTo did not say that it waits; log:\n%s", logs.String())
		}
	}
	if tree := readTree(t, filepath.Dir(out)); len(tree) > 1 { // the lock file
		t.Errorf("files written while the lock was held: %v", slices.Sorted(maps.Keys(tree)))
	}
	unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sameTree(t, "after the wait", readTree(t, out), coldTree(t, fixtureConfig()))

	// A build that is cancelled while it waits says so.
	unlock, err = lockOutput(context.Background(), out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := New(fixtureConfig()).BuildTo(ctx, out); err == nil || !strings.Contains(err.Error(), ".public.lock") {
		t.Errorf("a build cancelled while waiting: err = %v, want one naming the lock", err)
	}
}

// TestConcurrentBuildsOneOutput: two sites built again and again into one
// output folder at the same time (two `playdoc build` runs, as two
// goroutines here) leave exactly one of the two sites, never a mix, and
// no build fails.
func TestConcurrentBuildsOneOutput(t *testing.T) {
	variant := func(word string) Config {
		cfg := fixtureConfig()
		cfg.CacheDir = ""
		cfg.Content = fstest.MapFS{
			"01-one.md": {Data: []byte("---\ntitle: One " + word + "\nsummary: s\norder: 1\n---\n\nFirst page, " + word + ".\n")},
			"02-two.md": {Data: []byte("---\ntitle: Two " + word + "\nsummary: s\norder: 2\n---\n\nSecond page, " + word + ".\n")},
		}
		return cfg
	}
	a, b := variant("alpha"), variant("beta")
	wantA, wantB := coldTree(t, a), coldTree(t, b)
	out := filepath.Join(t.TempDir(), "public")
	for round := range 5 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, cfg := range []Config{a, b} {
			wg.Go(func() {
				for range 3 {
					if _, err := New(cfg).BuildTo(context.Background(), out); err != nil {
						errs[i] = err
						return
					}
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: build %d: %v", round, i, err)
			}
		}
		got := readTree(t, out)
		if !maps.Equal(got, wantA) && !maps.Equal(got, wantB) {
			t.Fatalf("round %d: the output is neither site:\n%s", round, fmt.Sprint(slices.Sorted(maps.Keys(got))))
		}
	}
}
