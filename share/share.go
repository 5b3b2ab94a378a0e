// Package share keeps the snippets readers share from the playground:
// content-addressed (the Go playground's ids), never evicted, and written
// durably before their id is given out. Store is the interface; SQLite is
// the embedded implementation.
package share

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"time"
)

// MaxSize bounds one shared snippet, in bytes, as the Go playground does.
const MaxSize = 64 << 10

// salt is hashed before the body, so that ids are the Go playground's: a
// snippet shared here has the id it would have on go.dev/play.
const salt = "Go playground salt\n"

// idRE matches the ids ID makes; anything else is never looked up.
var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{11,44}$`)

// ID is the content address of a snippet: the URL-safe base64 of its
// salted sha256, 11 characters (more while they end with '_', which some
// sites leave out of a link).
func ID(body []byte) string {
	h := sha256.New()
	h.Write([]byte(salt))
	h.Write(body)
	b := base64.URLEncoding.EncodeToString(h.Sum(nil))
	n := 11
	for n < len(b) && b[n-1] == '_' {
		n++
	}
	return b[:n]
}

// ValidID reports whether id has the shape of an id ID makes.
func ValidID(id string) bool { return idRE.MatchString(id) }

// Snippet is one shared snippet.
type Snippet struct {
	ID   string
	Body []byte
	// Origin is the site path the code was first shared from
	// ("/gather/#snippet-gather"), "" when it came from elsewhere.
	Origin  string
	Created time.Time
}

// Store keeps shared snippets. Implementations are safe for concurrent use.
type Store interface {
	// Put stores body (at most MaxSize bytes) under ID(body) and returns
	// that id once the snippet is durable. Storing new content charges
	// client's daily quota (a *QuotaError when it is spent); content
	// already stored charges nothing and keeps its first origin.
	Put(ctx context.Context, client string, body []byte, origin string) (string, error)
	// Get returns the snippet stored under id, or ErrNotFound.
	Get(ctx context.Context, id string) (Snippet, error)
	// Close releases the store; Put and Get fail afterwards.
	Close() error
}

// Errors of a Store.
var (
	ErrNotFound = errors.New("no snippet with this id")
	ErrTooLarge = fmt.Errorf("snippet is too large: the limit is %d KiB", MaxSize>>10)
	ErrClosed   = errors.New("share store closed")
)

// Limits bound what one client may store per UTC day. Zero fields take the
// defaults; negative ones mean no limit.
type Limits struct {
	SharesPerDay int   // new snippets (default 1000)
	BytesPerDay  int64 // bytes of new snippets (default 4 MiB)
}

func (l Limits) withDefaults() Limits {
	if l.SharesPerDay == 0 {
		l.SharesPerDay = 1000
	}
	if l.BytesPerDay == 0 {
		l.BytesPerDay = 4 << 20
	}
	return l
}

// QuotaError is a Put refused because the client's daily quota is spent.
type QuotaError struct {
	What       string        // "shares" or "bytes"
	Limit      int64         // the daily limit that would be passed
	RetryAfter time.Duration // until the quota renews (next UTC midnight)
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("daily share quota reached (%d %s per client per day); try again in %s",
		e.Limit, e.What, e.RetryAfter.Round(time.Minute))
}

// day is the UTC day number of t, the quota's period.
func day(t time.Time) int64 { return t.Unix() / 86400 }

// untilTomorrow is the time left in t's UTC day.
func untilTomorrow(t time.Time) time.Duration {
	return time.Unix((day(t)+1)*86400, 0).Sub(t)
}

// DefaultPath is where the database lives unless told otherwise: a data
// folder, never a cache one (caches are cleared by systems and people, and
// links must outlive them). On Linux that is $XDG_DATA_HOME/playdoc, else
// ~/.local/share/playdoc; elsewhere the system's per-user application data
// folder (os.UserConfigDir there: ~/Library/Application Support, %AppData%).
func DefaultPath() (string, error) {
	const file = "shares.db"
	if runtime.GOOS == "linux" || runtime.GOOS == "freebsd" || runtime.GOOS == "openbsd" || runtime.GOOS == "netbsd" {
		if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
			return filepath.Join(d, "playdoc", file), nil
		}
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("share store: no data folder: %w", err)
		}
		return filepath.Join(home, ".local", "share", "playdoc", file), nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("share store: no data folder: %w", err)
	}
	return filepath.Join(d, "playdoc", file), nil
}

// SQLiteOptions configures OpenSQLite. The zero value is usable.
type SQLiteOptions struct {
	Limits Limits
	// ImportDir is the folder of the file store older versions kept
	// (<id>.go files); its snippets are copied in once, on the first
	// open that finds it. "" imports nothing.
	ImportDir string
	Logger    *slog.Logger
	// Clock is the time source of the quota's days (default time.Now).
	Clock func() time.Time
}
