//go:build linux

package share

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestIDIsTheGoPlaygrounds(t *testing.T) {
	// The id go.dev/play gives a snippet is base64url(sha256(salt+body))
	// cut to 11 characters (values computed with Python's hashlib).
	for body, want := range map[string]string{"": "UCPdVNrl0-P", "package main\n": "z3xP5obroah"} {
		if got := ID([]byte(body)); got != want {
			t.Errorf("ID(%q) = %q, want %q", body, got, want)
		}
	}
	// A body whose 11th character is '_' gets a longer id, never ending in '_'.
	found := false
	for i := 0; i < 5000 && !found; i++ {
		id := ID([]byte(strings.Repeat("y", i)))
		if !ValidID(id) || strings.HasSuffix(id, "_") {
			t.Fatalf("ID = %q", id)
		}
		if len(id) > 11 {
			found = id[10] == '_'
			if !found {
				t.Errorf("long id %q without '_' at 11", id)
			}
		}
	}
	if !found {
		t.Error("no id longer than 11 characters in 5000 bodies (1/64 expected)")
	}
	for _, bad := range []string{"", "short", "../../etc/pa", "AAAAAAAAAA.", strings.Repeat("A", 45)} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func openTest(t *testing.T, path string, opt SQLiteOptions) *SQLite {
	t.Helper()
	s, err := OpenSQLite(context.Background(), path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func code(i int) []byte {
	return fmt.Appendf(nil, "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(%d)\n}\n", i)
}

// TestHundredThousandShares stores 100,000 distinct snippets through Put
// from 64 concurrent sharers (the server's path: one Put per request),
// closes the store, opens it again and reads every one back.
func TestHundredThousandShares(t *testing.T) {
	const n, workers = 100_000, 64
	path := filepath.Join(t.TempDir(), "shares.db")
	s, err := OpenSQLite(context.Background(), path, SQLiteOptions{Limits: Limits{SharesPerDay: -1, BytesPerDay: -1}})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	lat := make([]time.Duration, n)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				t0 := time.Now()
				id, err := s.Put(context.Background(), fmt.Sprintf("client%d", w), code(i), "")
				lat[i] = time.Since(t0)
				if err != nil {
					errs <- fmt.Errorf("put %d: %w", i, err)
					return
				}
				ids[i] = id
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	took := time.Since(start)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var worst, sum time.Duration
	for _, d := range lat {
		sum += d
		worst = max(worst, d)
	}
	t.Logf("%d shares in %v (%.0f/s, %d sharers at once); latency mean %v, max %v; database %.1f MiB",
		n, took.Round(time.Millisecond), float64(n)/took.Seconds(), workers,
		(sum / n).Round(time.Microsecond), worst.Round(time.Millisecond), float64(fi.Size())/(1<<20))

	s = openTest(t, path, SQLiteOptions{})
	start = time.Now()
	seen := make(map[string]bool, n)
	for i, id := range ids {
		if id != ID(code(i)) {
			t.Fatalf("snippet %d: id %q, want %q", i, id, ID(code(i)))
		}
		sn, err := s.Get(context.Background(), id)
		if err != nil {
			t.Fatalf("snippet %d (%s) lost: %v", i, id, err)
		}
		if string(sn.Body) != string(code(i)) {
			t.Fatalf("snippet %d (%s) reads %q", i, id, sn.Body)
		}
		seen[id] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct ids for %d distinct snippets", len(seen), n)
	}
	if cnt, _, err := s.Stats(context.Background()); err != nil || cnt != n {
		t.Errorf("Stats = %d, %v; want %d", cnt, err, n)
	}
	t.Logf("read back %d in %v", n, time.Since(start).Round(time.Millisecond))
}

func TestPutGetRoundTrip(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "s.db"), SQLiteOptions{})
	ctx := context.Background()
	body := []byte("package main\n\nfunc main() { println(\"<b>\") }\n")
	id, err := s.Put(ctx, "a", body, "/gather/#snippet-gather")
	if err != nil || id != ID(body) {
		t.Fatalf("Put = %q, %v", id, err)
	}
	// The same content again: same id, the first origin kept.
	if id2, err := s.Put(ctx, "b", body, "/other/"); err != nil || id2 != id {
		t.Fatalf("Put again = %q, %v", id2, err)
	}
	sn, err := s.Get(ctx, id)
	if err != nil || string(sn.Body) != string(body) || sn.Origin != "/gather/#snippet-gather" || sn.Created.IsZero() {
		t.Fatalf("Get = %+v, %v", sn, err)
	}
	// The empty snippet is a snippet.
	if id, err := s.Put(ctx, "a", nil, ""); err != nil || id != "UCPdVNrl0-P" {
		t.Fatalf("Put empty = %q, %v", id, err)
	} else if sn, err := s.Get(ctx, id); err != nil || sn.Body == nil || len(sn.Body) != 0 {
		t.Fatalf("Get empty = %+v, %v", sn, err)
	}
	for _, bad := range []string{"AAAAAAAAAAA", "nope", "../../x"} {
		if _, err := s.Get(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", bad, err)
		}
	}
	if _, err := s.Put(ctx, "a", make([]byte, MaxSize+1), ""); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized Put: %v", err)
	}
	if _, err := s.Put(ctx, "a", make([]byte, MaxSize), ""); err != nil {
		t.Errorf("Put of exactly MaxSize: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "a", []byte("x"), ""); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close: %v", err)
	}
}

func TestQuota(t *testing.T) {
	now := time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := openTest(t, filepath.Join(t.TempDir(), "s.db"), SQLiteOptions{Limits: Limits{SharesPerDay: 3, BytesPerDay: 100}, Clock: clock})
	ctx := context.Background()
	put := func(client, body string) error { _, err := s.Put(ctx, client, []byte(body), ""); return err }
	for i := range 3 {
		if err := put("1.2.3.4", fmt.Sprint(i)); err != nil {
			t.Fatalf("share %d: %v", i, err)
		}
	}
	err := put("1.2.3.4", "3")
	var qe *QuotaError
	if !errors.As(err, &qe) || qe.What != "shares" || qe.RetryAfter != time.Hour {
		t.Fatalf("fourth share: %v, want a shares QuotaError renewing in 1h", err)
	}
	if !strings.Contains(err.Error(), "3 shares per client per day") {
		t.Errorf("message %q", err)
	}
	// Content already stored costs nothing; another client has its own quota.
	if err := put("1.2.3.4", "0"); err != nil {
		t.Errorf("sharing stored content again: %v", err)
	}
	if err := put("5.6.7.8", "3"); err != nil {
		t.Errorf("another client: %v", err)
	}
	// Bytes: 60 + 60 > 100.
	if err := put("9.9.9.9", strings.Repeat("a", 60)); err != nil {
		t.Fatal(err)
	}
	if err := put("9.9.9.9", strings.Repeat("b", 60)); !errors.As(err, &qe) || qe.What != "bytes" {
		t.Errorf("over the byte quota: %v", err)
	}
	// A refused share is not stored.
	if _, err := s.Get(ctx, ID([]byte(strings.Repeat("b", 60)))); !errors.Is(err, ErrNotFound) {
		t.Errorf("refused snippet readable: %v", err)
	}
	// The next UTC day renews it.
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	if err := put("1.2.3.4", "4"); err != nil {
		t.Errorf("next day: %v", err)
	}
	var rows int
	if err := s.db.QueryRow(`SELECT count(*) FROM quota`).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("quota rows after the day changed: %d, %v; want only today's", rows, err)
	}
}

// TestBackupRestore backs up a store in use, restores the copy as a new
// database and reads it back.
func TestBackupRestore(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, filepath.Join(dir, "s.db"), SQLiteOptions{})
	ctx := context.Background()
	var ids []string
	for i := range 50 {
		id, err := s.Put(ctx, "c", code(i), fmt.Sprintf("/p%d/", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	backup := filepath.Join(dir, "backup.db")
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, backup); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("backup over an existing file: %v", err)
	}
	later, err := s.Put(ctx, "c", code(1000), "")
	if err != nil {
		t.Fatal(err)
	}
	// Restore: copy the backup where a server will open it.
	restored := filepath.Join(dir, "restored", "shares.db")
	if err := os.MkdirAll(filepath.Dir(restored), 0o700); err != nil {
		t.Fatal(err)
	}
	copyFile(t, backup, restored)
	r := openTest(t, restored, SQLiteOptions{})
	for i, id := range ids {
		sn, err := r.Get(ctx, id)
		if err != nil || string(sn.Body) != string(code(i)) || sn.Origin != fmt.Sprintf("/p%d/", i) {
			t.Fatalf("restored %s: %+v, %v", id, sn, err)
		}
	}
	if _, err := r.Get(ctx, later); !errors.Is(err, ErrNotFound) {
		t.Errorf("a snippet shared after the backup is in it: %v", err)
	}
	if _, err := r.Put(ctx, "c", code(2000), ""); err != nil {
		t.Errorf("the restored store takes new shares: %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestImportOldFiles: the old file store's snippets are copied in on the
// first open, once; files that are not a snippet under its id are skipped.
func TestImportOldFiles(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "share")
	if err := os.MkdirAll(old, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name string, body []byte) {
		if err := os.WriteFile(filepath.Join(old, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(ID(code(1))+".go", code(1))
	write(ID(code(2))+".go", code(2))
	write(ID(code(3))+".go", code(4)) // torn: the name is another content's
	write("tmp-123", []byte("x"))
	db := filepath.Join(dir, "data", "shares.db")
	s, err := OpenSQLite(context.Background(), db, SQLiteOptions{ImportDir: old})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, i := range []int{1, 2} {
		if sn, err := s.Get(ctx, ID(code(i))); err != nil || string(sn.Body) != string(code(i)) {
			t.Errorf("imported %d: %+v, %v", i, sn, err)
		}
	}
	if _, err := s.Get(ctx, ID(code(3))); !errors.Is(err, ErrNotFound) {
		t.Errorf("a torn file was imported: %v", err)
	}
	s.Close()
	// A second open does not import again (a file added since stays out).
	write(ID(code(5))+".go", code(5))
	s = openTest(t, db, SQLiteOptions{ImportDir: old})
	if _, err := s.Get(ctx, ID(code(5))); !errors.Is(err, ErrNotFound) {
		t.Errorf("imported twice: %v", err)
	}
	if n, _, _ := s.Stats(ctx); n != 2 {
		t.Errorf("%d snippets, want 2", n)
	}
}

// TestCancelledPut: a caller gone before its group commits stores nothing
// and gets its context's error; the others are unaffected.
func TestCancelledPut(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "s.db"), SQLiteOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, "c", code(1), ""); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Put: %v", err)
	}
	if _, err := s.Get(context.Background(), ID(code(1))); !errors.Is(err, ErrNotFound) {
		t.Errorf("cancelled Put stored: %v", err)
	}
	if _, err := s.Put(context.Background(), "c", code(2), ""); err != nil {
		t.Error(err)
	}
}

func TestMemoryStore(t *testing.T) {
	s := openTest(t, ":memory:", SQLiteOptions{})
	id, err := s.Put(context.Background(), "c", code(1), "")
	if err != nil {
		t.Fatal(err)
	}
	if sn, err := s.Get(context.Background(), id); err != nil || string(sn.Body) != string(code(1)) {
		t.Errorf("Get = %+v, %v", sn, err)
	}
}

// BenchmarkPutOneSharer is the latency of one share when nobody else
// shares: a transaction and its fsync (go test -bench PutOneSharer ./share).
func BenchmarkPutOneSharer(b *testing.B) {
	s, err := OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "s.db"), SQLiteOptions{Limits: Limits{SharesPerDay: -1, BytesPerDay: -1}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Put(context.Background(), "c", code(i), ""); err != nil {
			b.Fatal(err)
		}
	}
}
