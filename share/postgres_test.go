package share

import (
	"context"
	"errors"
	"sync"
	"testing"

	"playdoc/internal/pgtest"
)

// TestPostgresTwoInstances: two stores on one PostgreSQL database, as two
// playground instances: what one stores the other reads, the same content
// gets the same id whichever instance it reaches, a client's daily quota
// counts across both, and everything survives reopening.
func TestPostgresTwoInstances(t *testing.T) {
	url := pgtest.Start(t)
	ctx := context.Background()
	open := func() *Postgres {
		s, err := OpenPostgres(ctx, url, PostgresOptions{Limits: Limits{SharesPerDay: 50, BytesPerDay: -1}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	id, err := a.Put(ctx, "c1", code(1), "/gather/#snippet-gather")
	if err != nil || id != ID(code(1)) {
		t.Fatalf("Put on a: %q, %v", id, err)
	}
	sn, err := b.Get(ctx, id)
	if err != nil || string(sn.Body) != string(code(1)) || sn.Origin != "/gather/#snippet-gather" {
		t.Fatalf("Get on b: %+v, %v", sn, err)
	}
	if id2, err := b.Put(ctx, "c2", code(1), ""); err != nil || id2 != id {
		t.Errorf("the same code on b: %q, %v", id2, err)
	}
	if _, err := b.Get(ctx, "AAAAAAAAAAA"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	// 60 concurrent new shares of one client, half on each instance: 49
	// fit in its quota (one used above), the rest get a QuotaError.
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	var ids []string
	for i := range 60 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			id, err := s.Put(ctx, "c1", code(100+i), "")
			var qe *QuotaError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
				ids = append(ids, id)
			case errors.As(err, &qe):
				refused++
			default:
				t.Errorf("put %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if ok != 49 || refused != 11 {
		t.Errorf("%d stored, %d refused; want 49 and 11 (quota 50 across both instances)", ok, refused)
	}
	// A third instance, opened afterwards, reads them all.
	c := open()
	for _, id := range ids {
		if _, err := c.Get(ctx, id); err != nil {
			t.Errorf("after reopening, %s: %v", id, err)
		}
	}
	if _, err := c.Put(ctx, "c1", make([]byte, MaxSize+1), ""); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized: %v", err)
	}
	t.Logf("%d shares across two instances", ok+1)
}
