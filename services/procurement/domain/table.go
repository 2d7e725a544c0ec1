package domain

// Table is a map from string keys that is never changed once built: With returns a new table
// and leaves the receiver as it was, so states holding tables can be copied and shared (the
// command handler caches stock items' states, see StockItem) without one copy's fold showing
// in another. The keys are spread over tableBuckets small maps and With copies only the
// bucket it changes (and the array of buckets), so a fold stays cheap however many
// requisitions or stocktakes an item has seen. The zero value is an empty table.
type Table[V any] struct {
	buckets *[tableBuckets]map[string]V
	n       int
}

const tableBuckets = 32

func tableBucket(k string) int {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(k); i++ {
		h = (h ^ uint32(k[i])) * 16777619
	}
	return int(h % tableBuckets)
}

// Get returns the value of k (the zero value if absent) and whether it is present.
func (t Table[V]) Get(k string) (V, bool) {
	if t.buckets == nil {
		var zero V
		return zero, false
	}
	v, ok := t.buckets[tableBucket(k)][k]
	return v, ok
}

// Has reports whether k is present.
func (t Table[V]) Has(k string) bool {
	_, ok := t.Get(k)
	return ok
}

// Len is the number of keys.
func (t Table[V]) Len() int { return t.n }

// With returns a table with k set to v; t is not changed.
func (t Table[V]) With(k string, v V) Table[V] {
	nb := new([tableBuckets]map[string]V)
	if t.buckets != nil {
		*nb = *t.buckets
	}
	i := tableBucket(k)
	old := nb[i]
	m := make(map[string]V, len(old)+1)
	for key, val := range old {
		m[key] = val
	}
	n := t.n
	if _, ok := old[k]; !ok {
		n++
	}
	m[k] = v
	nb[i] = m
	return Table[V]{buckets: nb, n: n}
}

// All calls yield for every key and value, in no set order, until it returns false.
func (t Table[V]) All(yield func(string, V) bool) {
	if t.buckets == nil {
		return
	}
	for _, b := range t.buckets {
		for k, v := range b {
			if !yield(k, v) {
				return
			}
		}
	}
}
