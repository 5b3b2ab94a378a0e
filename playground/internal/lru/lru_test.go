package lru

import (
	"slices"
	"testing"
)

func TestEvictsLeastRecentlyUsedByCost(t *testing.T) {
	var evicted []string
	c := New(10, func(v int) int64 { return int64(v) }, func(k string, _ int) { evicted = append(evicted, k) })
	c.Add("a", 4)
	c.Add("b", 4)
	if _, ok := c.Get("a"); !ok { // a is now the most recently used
		t.Fatal("a missing")
	}
	c.Add("c", 4) // 12 > 10: b goes
	if !slices.Equal(evicted, []string{"b"}) || c.Contains("b") || !c.Contains("a") || !c.Contains("c") {
		t.Fatalf("evicted %v; a %v c %v", evicted, c.Contains("a"), c.Contains("c"))
	}
	if c.Len() != 2 || c.Cost() != 8 {
		t.Errorf("len %d cost %d, want 2 and 8", c.Len(), c.Cost())
	}
	c.Add("a", 1) // a replacement is not an eviction
	if c.Cost() != 5 || len(evicted) != 1 {
		t.Errorf("after replacing a: cost %d, evicted %v", c.Cost(), evicted)
	}
	c.Add("huge", 11) // more than max alone: everything goes, itself last
	if c.Len() != 0 || c.Cost() != 0 || !slices.Equal(evicted, []string{"b", "c", "a", "huge"}) {
		t.Errorf("after a too large entry: len %d cost %d evicted %v", c.Len(), c.Cost(), evicted)
	}
}

func TestCountsEntriesWithoutCost(t *testing.T) {
	c := New[int, string](2, nil, nil)
	c.Add(1, "x")
	c.Add(2, "y")
	c.Contains(1) // not a use
	c.Add(3, "z")
	if c.Contains(1) || !c.Contains(2) || !c.Contains(3) {
		t.Errorf("kept 1 %v 2 %v 3 %v, want 2 and 3", c.Contains(1), c.Contains(2), c.Contains(3))
	}
	if v, ok := c.Get(3); !ok || v != "z" {
		t.Errorf("Get(3) = %q %v", v, ok)
	}
}
