// Package testenv holds what the test packages of playdoc share about their
// environment, so that each states it once.
package testenv

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
)

// DataDirEnv names the environment variable that overrides PlaygroundDataDir.
const DataDirEnv = "PLAYDOC_TEST_DATA"

// PlaygroundDataDir is the playground data folder (module cache, warm build
// cache, binaries) that every test package, the e2e `playdoc serve` and
// scripts/test.sh's `playdoc check` share, so that a machine warms the
// sandbox's build cache once, not once per package. It is $PLAYDOC_TEST_DATA
// when set, else playdoc-test in the user cache folder
// ($XDG_CACHE_HOME/playdoc-test on Linux: a new machine starts without it),
// else in the temporary folder.
func PlaygroundDataDir() string {
	if d := os.Getenv(DataDirEnv); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "playdoc-test")
	}
	return filepath.Join(os.TempDir(), "playdoc-test")
}

// ModCache is the Go module cache of playground servers whose tests need no
// sandbox (fake executors): a folder beside PlaygroundDataDir.
func ModCache() string { return PlaygroundDataDir() + "-gomod" }

// SyncBuffer is a bytes.Buffer safe for concurrent use: the log or the
// terminal output of a server under test, read while it still writes.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p; it never fails.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
