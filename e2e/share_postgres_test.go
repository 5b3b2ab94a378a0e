package e2e

import (
	"context"
	"fmt"
	"testing"

	"playdoc/internal/pgtest"
)

// TestShareTwoInstances: two `playdoc playground --db postgres://…` behind
// one database, as behind a load balancer: a link shared through one opens
// on the other, page and source.
func TestShareTwoInstances(t *testing.T) {
	url := pgtest.Start(t)
	a := startPlayground(t, "--db", url)
	b := startPlayground(t, "--db", url)
	for i := range 20 {
		from, to := a, b
		if i%2 == 1 {
			from, to = b, a
		}
		code := fmt.Sprintf("package main\n\nfunc main() { println(%d) }\n", i)
		id, err := postShare(context.Background(), from.base, code)
		if err != nil {
			t.Fatalf("share %d: %v", i, err)
		}
		body, status, err := httpGet(to.base + "/p/" + id + ".go")
		if err != nil || status != 200 || body != code {
			t.Fatalf("shared on %s, read on %s: %d %q %v", from.base, to.base, status, body, err)
		}
		if _, status, _ := httpGet(to.base + "/p/" + id); status != 200 {
			t.Errorf("/p/%s on the other instance: %d", id, status)
		}
	}
}
