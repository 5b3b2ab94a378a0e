//go:build !linux

package share

import (
	"context"
	"errors"
	"fmt"
	"runtime"
)

// SQLite is the embedded Store, which only the playground backend opens,
// and the backend runs on Linux only (its sandbox is made of Linux
// namespaces): elsewhere OpenSQLite fails, and macOS and Windows builds of
// playdoc do not carry the SQLite engine (modernc.org/sqlite, some 10 MB
// of generated Go per system).
type SQLite struct{}

// OpenSQLite fails off Linux with errors.ErrUnsupported.
func OpenSQLite(context.Context, string, SQLiteOptions) (*SQLite, error) {
	return nil, fmt.Errorf("the share store (SQLite) is part of the playground backend, which needs Linux (this is %s): %w",
		runtime.GOOS, errors.ErrUnsupported)
}

// Path is "" off Linux.
func (s *SQLite) Path() string { return "" }

// Put fails off Linux.
func (s *SQLite) Put(context.Context, string, []byte, string) (string, error) {
	return "", errors.ErrUnsupported
}

// Get fails off Linux.
func (s *SQLite) Get(context.Context, string) (Snippet, error) {
	return Snippet{}, errors.ErrUnsupported
}

// Stats fails off Linux.
func (s *SQLite) Stats(context.Context) (int, int64, error) { return 0, 0, errors.ErrUnsupported }

// Backup fails off Linux.
func (s *SQLite) Backup(context.Context, string) error { return errors.ErrUnsupported }

// Close does nothing off Linux.
func (s *SQLite) Close() error { return nil }
