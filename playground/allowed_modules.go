//go:build playdoc_allowed_modules

// This file is never compiled into playdoc. It names the modules that
// sandboxed programs may import (AllowedModules), so that `go mod tidy`,
// which reads files under every build tag, keeps them in go.mod and go.sum,
// and `go mod download` puts them in the host's module cache, from which the
// playground seeds its private, read-only one.
package playground

import (
	_ "golang.org/x/sync/errgroup"
	_ "golang.org/x/sync/semaphore"
	_ "golang.org/x/sync/singleflight"
	_ "golang.org/x/sys/unix"
	_ "modernc.org/sqlite"
)
