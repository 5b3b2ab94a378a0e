package share

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresOptions configures OpenPostgres. The zero value is usable.
type PostgresOptions struct {
	Limits Limits
	Logger *slog.Logger
	// Clock is the time source of the quota's days (default time.Now).
	Clock func() time.Time
}

// Postgres is the Store for several playground instances: one PostgreSQL
// database they all share, so a link shared through one instance opens on
// every other. A Put is one transaction; PostgreSQL's default
// synchronous_commit=on flushes its WAL before the commit returns, so the id
// is only given out once the snippet is durable. The quota row is updated in
// the same transaction (its row lock orders concurrent sharers of one
// client, whichever instance they reach).
type Postgres struct {
	pool   *pgxpool.Pool
	limits Limits
	log    *slog.Logger
	now    func() time.Time
}

// pgSchema is the database's layout; created if missing.
const pgSchema = `
CREATE TABLE IF NOT EXISTS share_snippet (
	id      TEXT PRIMARY KEY,
	body    BYTEA NOT NULL,
	origin  TEXT NOT NULL DEFAULT '',
	created TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS share_quota (
	client TEXT NOT NULL,
	day    BIGINT NOT NULL, -- unix days (UTC)
	shares BIGINT NOT NULL,
	bytes  BIGINT NOT NULL,
	PRIMARY KEY (client, day)
);
`

// OpenPostgres connects to the database at url (postgres://user@host/db,
// or key=value pairs) and creates the tables if missing. Close ends it.
func OpenPostgres(ctx context.Context, url string, opt PostgresOptions) (*Postgres, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("share store: postgres: %w", err)
	}
	// Several instances may start at once: a lock makes the CREATEs one
	// at a time (CREATE TABLE IF NOT EXISTS alone can race on the catalog).
	_, err = pool.Exec(ctx, `SELECT pg_advisory_lock(7164720115); `+pgSchema+`; SELECT pg_advisory_unlock(7164720115)`)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("share store: postgres: create tables: %w", err)
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	return &Postgres{pool: pool, limits: opt.Limits.withDefaults(), log: opt.Logger, now: opt.Clock}, nil
}

// Put implements Store.
func (s *Postgres) Put(ctx context.Context, client string, body []byte, origin string) (string, error) {
	if len(body) > MaxSize {
		return "", ErrTooLarge
	}
	if body == nil {
		body = []byte{}
	}
	id := ID(body)
	now := s.now()
	today := day(now)
	var refusal error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var got string
		err := tx.QueryRow(ctx, `INSERT INTO share_snippet (id, body, origin, created) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO NOTHING RETURNING id`, id, body, origin, now).Scan(&got)
		if errors.Is(err, pgx.ErrNoRows) {
			// Stored already (by this or another instance): the same
			// content, unless the hash collided.
			var old []byte
			if err := tx.QueryRow(ctx, `SELECT body FROM share_snippet WHERE id = $1`, id).Scan(&old); err != nil {
				return fmt.Errorf("look up %s: %w", id, err)
			}
			if !bytes.Equal(old, body) {
				refusal = fmt.Errorf("share store: id %s is taken by other content", id)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("insert %s: %w", id, err)
		}
		var shares, used int64
		if err := tx.QueryRow(ctx, `INSERT INTO share_quota (client, day, shares, bytes) VALUES ($1, $2, 1, $3)
			ON CONFLICT (client, day) DO UPDATE SET shares = share_quota.shares + 1, bytes = share_quota.bytes + excluded.bytes
			RETURNING shares, bytes`, client, today, len(body)).Scan(&shares, &used); err != nil {
			return fmt.Errorf("charge quota: %w", err)
		}
		switch {
		case s.limits.SharesPerDay > 0 && shares > int64(s.limits.SharesPerDay):
			refusal = &QuotaError{What: "shares", Limit: int64(s.limits.SharesPerDay), RetryAfter: untilTomorrow(now)}
		case s.limits.BytesPerDay > 0 && used > s.limits.BytesPerDay:
			refusal = &QuotaError{What: "bytes", Limit: s.limits.BytesPerDay, RetryAfter: untilTomorrow(now)}
		}
		if refusal != nil {
			return refusal // rolls the snippet and the charge back
		}
		return nil
	})
	if refusal != nil {
		return "", refusal
	}
	if err != nil {
		return "", fmt.Errorf("share store: postgres: %w", err)
	}
	return id, nil
}

// Get implements Store.
func (s *Postgres) Get(ctx context.Context, id string) (Snippet, error) {
	if !ValidID(id) {
		return Snippet{}, ErrNotFound
	}
	sn := Snippet{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT body, origin, created FROM share_snippet WHERE id = $1`, id).Scan(&sn.Body, &sn.Origin, &sn.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return Snippet{}, ErrNotFound
	}
	if err != nil {
		return Snippet{}, fmt.Errorf("share store: postgres: get %s: %w", id, err)
	}
	if sn.Body == nil {
		sn.Body = []byte{}
	}
	return sn, nil
}

// Close implements Store.
func (s *Postgres) Close() error {
	s.pool.Close()
	return nil
}
