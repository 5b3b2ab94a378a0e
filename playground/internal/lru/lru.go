// Package lru is an index of entries bounded by their total cost that
// drops the least recently used first: the one eviction scheme of the
// playground (the binary cache counts bytes, the rate limiter clients).
//
// A Cache is not safe for concurrent use; its owner holds its own lock,
// which also covers what the owner does on eviction.
package lru

import "container/list"

// Cache maps keys to values, most recently used first.
type Cache[K comparable, V any] struct {
	max     int64
	cost    func(V) int64
	onEvict func(K, V)
	ll      *list.List // front: most recently used; values are *entry[K, V]
	items   map[K]*list.Element
	total   int64
}

type entry[K comparable, V any] struct {
	key  K
	val  V
	cost int64
}

// New returns an empty Cache holding at most max in total cost, where
// cost gives each value's (nil: 1 per entry). onEvict, if not nil, is
// called with each entry Add evicts, after it left the index.
func New[K comparable, V any](max int64, cost func(V) int64, onEvict func(K, V)) *Cache[K, V] {
	if cost == nil {
		cost = func(V) int64 { return 1 }
	}
	return &Cache[K, V]{max: max, cost: cost, onEvict: onEvict, ll: list.New(), items: map[K]*list.Element{}}
}

// Get returns k's value and marks it the most recently used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	el, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(*entry[K, V]).val, true
}

// Contains reports whether k is in the cache, without marking it used.
func (c *Cache[K, V]) Contains(k K) bool {
	_, ok := c.items[k]
	return ok
}

// Add puts v under k as the most recently used entry (replacing an older
// value, which is not passed to onEvict), then evicts the least recently
// used entries until the total cost is at most max: the new entry too if
// it alone costs more.
func (c *Cache[K, V]) Add(k K, v V) {
	e := &entry[K, V]{key: k, val: v, cost: c.cost(v)}
	if el, ok := c.items[k]; ok {
		c.total -= el.Value.(*entry[K, V]).cost
		el.Value = e
		c.ll.MoveToFront(el)
	} else {
		c.items[k] = c.ll.PushFront(e)
	}
	c.total += e.cost
	for c.total > c.max && c.ll.Len() > 0 {
		old := c.ll.Remove(c.ll.Back()).(*entry[K, V])
		delete(c.items, old.key)
		c.total -= old.cost
		if c.onEvict != nil {
			c.onEvict(old.key, old.val)
		}
	}
}

// Remove drops k, without calling onEvict, and reports whether it was
// there.
func (c *Cache[K, V]) Remove(k K) bool {
	el, ok := c.items[k]
	if !ok {
		return false
	}
	c.ll.Remove(el)
	delete(c.items, k)
	c.total -= el.Value.(*entry[K, V]).cost
	return true
}

// Len is the number of entries.
func (c *Cache[K, V]) Len() int { return c.ll.Len() }

// Cost is the total cost of the entries.
func (c *Cache[K, V]) Cost() int64 { return c.total }
