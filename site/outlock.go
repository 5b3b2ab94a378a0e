package site

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// lockOutput lets one build at a time write into the output folder dir
// (absolute): two builds into one folder share its staging folder, and
// interleaved they could leave a stale or mixed site. The lock is an
// exclusive flock(2) (LockFileEx on Windows) on PARENT/.BASE.lock, beside
// the staging folder; the kernel drops it when its process dies, so a
// crashed build never blocks the next. If another process holds it,
// waiting is called once and lockOutput waits, polling every 50 ms, until
// it is free or ctx ends. The returned func releases it. Errors: the lock
// file cannot be made or locked, or ctx ended first.
func lockOutput(ctx context.Context, dir string, waiting func()) (func(), error) {
	path := filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".lock")
	fl := flock.New(path)
	ok, err := fl.TryLock()
	if err == nil && !ok {
		if waiting != nil {
			waiting()
		}
		ok, err = fl.TryLockContext(ctx, 50*time.Millisecond)
	}
	if err != nil { // TryLockContext's false always comes with an error (ctx's)
		return nil, fmt.Errorf("write site: lock %s: %w", path, err)
	}
	return func() { _ = fl.Unlock() }, nil
}
