//go:build linux

package share

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite", pure Go
)

// SQLite is the embedded Store: one database file, in WAL mode with
// synchronous=FULL, so that every commit is on disk (fsynced) before Put
// returns. Concurrent Puts are committed together, one transaction and one
// fsync per group ("group commit"): SQLite has a single writer anyway, and a
// crowd of sharers then costs one disk flush per group, not per snippet.
type SQLite struct {
	db     *sql.DB
	path   string
	limits Limits
	log    *slog.Logger
	now    func() time.Time

	puts chan *putReq // to the writer; unbuffered, so that waiting senders form the next group
	quit chan struct{}
	done chan struct{} // closed when the writer has returned
	once sync.Once
}

// putReq is one Put waiting for the writer.
type putReq struct {
	ctx    context.Context
	client string
	body   []byte
	origin string
	id     string
	err    chan error // buffered: the writer never blocks on it
}

// maxGroup bounds the snippets committed in one transaction.
const maxGroup = 512

// schema is the database's layout (user_version 1).
const schema = `
CREATE TABLE IF NOT EXISTS snippet (
	id      TEXT PRIMARY KEY NOT NULL,
	body    BLOB NOT NULL,
	origin  TEXT NOT NULL DEFAULT '',
	created INTEGER NOT NULL -- unix seconds
);
CREATE TABLE IF NOT EXISTS quota (
	client TEXT NOT NULL,
	day    INTEGER NOT NULL, -- unix days (UTC)
	shares INTEGER NOT NULL,
	bytes  INTEGER NOT NULL,
	PRIMARY KEY (client, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY NOT NULL,
	value TEXT NOT NULL
) WITHOUT ROWID;
PRAGMA user_version = 1;
`

// OpenSQLite opens (creating it and its folder) the database at path and
// starts its writer. ":memory:" is a private in-memory database, for tools
// that need a store but no shares (playdoc check). Close ends it.
func OpenSQLite(ctx context.Context, path string, opt SQLiteOptions) (*SQLite, error) {
	mem := path == ":memory:"
	if !mem {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("share store: create folder: %w", err)
		}
	}
	// WAL: readers never wait for the writer, and a commit appends to the
	// log instead of rewriting pages. synchronous=FULL: each commit
	// fsyncs the log, so a snippet whose id was returned survives a power
	// cut too; NORMAL would survive a crash of the process only (the log is
	// in the OS's cache), and could lose the last links after a power cut.
	// Group commit pays for FULL. _txlock=immediate takes the write lock at
	// BEGIN, so a second process (a backup) makes the writer wait, not fail.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	if mem {
		dsn = "file::memory:?" + q.Encode()
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("share store %s: %w", path, err)
	}
	if mem {
		db.SetMaxOpenConns(1) // each connection would be another database
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("share store %s: create schema: %w", path, err)
	}
	if !mem {
		if err := os.Chmod(path, 0o600); err != nil {
			db.Close()
			return nil, fmt.Errorf("share store %s: %w", path, err)
		}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	s := &SQLite{
		db: db, path: path, limits: opt.Limits.withDefaults(), log: opt.Logger, now: opt.Clock,
		puts: make(chan *putReq), quit: make(chan struct{}), done: make(chan struct{}),
	}
	if opt.ImportDir != "" {
		if err := s.importDir(ctx, opt.ImportDir); err != nil {
			db.Close()
			return nil, err
		}
	}
	go s.writer()
	return s, nil
}

// Path is the database file.
func (s *SQLite) Path() string { return s.path }

// Put implements Store.
func (s *SQLite) Put(ctx context.Context, client string, body []byte, origin string) (string, error) {
	if len(body) > MaxSize {
		return "", ErrTooLarge
	}
	if body == nil {
		body = []byte{} // a nil []byte is SQL NULL; the empty snippet is a snippet
	}
	r := &putReq{ctx: ctx, client: client, body: body, origin: origin, id: ID(body), err: make(chan error, 1)}
	select {
	case s.puts <- r:
	case <-s.quit:
		return "", ErrClosed
	case <-ctx.Done():
		return "", ctx.Err()
	}
	// Once handed over, wait for the commit even if ctx ends: the answer
	// must say whether the snippet is stored, and the commit is short.
	if err := <-r.err; err != nil {
		return "", err
	}
	return r.id, nil
}

// writer commits the Puts, in groups: the first waiting one, plus every
// other one that arrived while the previous group was committing.
func (s *SQLite) writer() {
	defer close(s.done)
	group := make([]*putReq, 0, maxGroup)
	lastDay := int64(-1)
	for {
		group = group[:0]
		select {
		case r := <-s.puts:
			group = append(group, r)
		case <-s.quit:
			return
		}
	more:
		for len(group) < maxGroup {
			select {
			case r := <-s.puts:
				group = append(group, r)
			default:
				break more
			}
		}
		errs, err := s.commit(group, &lastDay)
		for i, r := range group {
			if err != nil {
				r.err <- err
			} else {
				r.err <- errs[i]
			}
		}
	}
}

// commit stores a group in one transaction. errs are the per-Put refusals
// (quota, a cancelled caller); err fails the whole group.
func (s *SQLite) commit(group []*putReq, lastDay *int64) (errs []error, err error) {
	ctx := context.Background() // the group outlives any one caller
	now := s.now()
	today := day(now)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("share store: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if today != *lastDay {
		// Yesterday's counters are of no more use.
		if _, err := tx.ExecContext(ctx, `DELETE FROM quota WHERE day < ?`, today); err != nil {
			return nil, fmt.Errorf("share store: expire quotas: %w", err)
		}
	}
	errs = make([]error, len(group))
	for i, r := range group {
		if r.ctx.Err() != nil {
			errs[i] = r.ctx.Err()
			continue
		}
		errs[i], err = s.put(ctx, tx, r, now, today)
		if err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("share store: commit: %w", err)
	}
	*lastDay = today
	return errs, nil
}

// put stores one snippet inside the group's transaction: refusal is the
// client's quota (or an id collision), err a database failure.
func (s *SQLite) put(ctx context.Context, tx *sql.Tx, r *putReq, now time.Time, today int64) (refusal, err error) {
	var old []byte
	switch err := tx.QueryRowContext(ctx, `SELECT body FROM snippet WHERE id = ?`, r.id).Scan(&old); {
	case err == nil:
		if !bytes.Equal(old, r.body) {
			// 66 bits of hash: not expected in this universe, but a link
			// must never show other code than what was shared.
			return fmt.Errorf("share store: id %s is taken by other content", r.id), nil
		}
		return nil, nil
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("share store: look up %s: %w", r.id, err)
	}
	var shares, used int64
	err = tx.QueryRowContext(ctx, `SELECT shares, bytes FROM quota WHERE client = ? AND day = ?`, r.client, today).Scan(&shares, &used)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("share store: read quota: %w", err)
	}
	if lim := s.limits.SharesPerDay; lim > 0 && shares+1 > int64(lim) {
		return &QuotaError{What: "shares", Limit: int64(lim), RetryAfter: untilTomorrow(now)}, nil
	}
	if lim := s.limits.BytesPerDay; lim > 0 && used+int64(len(r.body)) > lim {
		return &QuotaError{What: "bytes", Limit: lim, RetryAfter: untilTomorrow(now)}, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO snippet (id, body, origin, created) VALUES (?, ?, ?, ?)`,
		r.id, r.body, r.origin, now.Unix()); err != nil {
		return nil, fmt.Errorf("share store: insert %s: %w", r.id, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO quota (client, day, shares, bytes) VALUES (?, ?, 1, ?)
		ON CONFLICT (client, day) DO UPDATE SET shares = shares + 1, bytes = bytes + excluded.bytes`,
		r.client, today, len(r.body)); err != nil {
		return nil, fmt.Errorf("share store: charge quota: %w", err)
	}
	return nil, nil
}

// Get implements Store.
func (s *SQLite) Get(ctx context.Context, id string) (Snippet, error) {
	if !ValidID(id) {
		return Snippet{}, ErrNotFound
	}
	sn := Snippet{ID: id}
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT body, origin, created FROM snippet WHERE id = ?`, id).Scan(&sn.Body, &sn.Origin, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Snippet{}, ErrNotFound
	}
	if err != nil {
		if errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "database is closed") {
			return Snippet{}, ErrClosed
		}
		return Snippet{}, fmt.Errorf("share store: get %s: %w", id, err)
	}
	if sn.Body == nil {
		sn.Body = []byte{}
	}
	sn.Created = time.Unix(created, 0)
	return sn, nil
}

// Stats reports the number of snippets stored and their total size in bytes.
func (s *SQLite) Stats(ctx context.Context) (n int, size int64, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(length(body)), 0) FROM snippet`).Scan(&n, &size)
	if err != nil {
		return 0, 0, fmt.Errorf("share store: stats: %w", err)
	}
	return n, size, nil
}

// Backup writes a consistent copy of the database to dst (which must not
// exist) while the store keeps serving: VACUUM INTO, a compact snapshot of
// one read transaction. Restoring is copying it back in place of the
// database while no server has it open (docs/share.md).
func (s *SQLite) Backup(ctx context.Context, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("backup %s: the file exists; choose a new name", dst)
	}
	if _, err := s.db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return fmt.Errorf("backup %s: %w", dst, err)
	}
	return nil
}

// Close stops the writer (Puts in progress finish first) and closes the
// database.
func (s *SQLite) Close() error {
	s.once.Do(func() { close(s.quit) })
	<-s.done
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("share store: close: %w", err)
	}
	return nil
}

// importDir copies the snippets of the old file store (dir/<id>.go) into
// the database, once: a marker in meta records that dir was imported, so
// later starts skip it. Files whose name is not their content's id are
// skipped (a partial write of a crashed old version).
func (s *SQLite) importDir(ctx context.Context, dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("share store: import %s: %w", dir, err)
	}
	key := "imported:" + abs
	var v string
	switch err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v); {
	case err == nil:
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("share store: import %s: %w", dir, err)
	}
	des, err := os.ReadDir(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // nothing to import; look again next time
	}
	if err != nil {
		return fmt.Errorf("share store: import %s: %w", dir, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("share store: import %s: %w", dir, err)
	}
	defer func() { _ = tx.Rollback() }()
	n := 0
	for _, de := range des {
		id, ok := strings.CutSuffix(de.Name(), ".go")
		if !ok || !ValidID(id) || !de.Type().IsRegular() {
			continue
		}
		path := filepath.Join(abs, de.Name())
		body, err := os.ReadFile(path)
		if err != nil || len(body) > MaxSize || ID(body) != id {
			continue
		}
		created := time.Now()
		if fi, err := de.Info(); err == nil {
			created = fi.ModTime()
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO snippet (id, body, created) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			id, body, created.Unix())
		if err != nil {
			return fmt.Errorf("share store: import %s: %w", path, err)
		}
		if k, _ := res.RowsAffected(); k > 0 {
			n++
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)`, key, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("share store: import %s: %w", dir, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("share store: import %s: %w", dir, err)
	}
	s.log.Info("share store: imported the old shares", "from", abs, "snippets", n)
	return nil
}
