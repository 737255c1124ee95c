package tally

// pvec is a persistent vector: a fixed number of values in a tree of nodes of pvecWidth slots.
// A vector is never changed once published; an edit makes a new vector that copies only the
// nodes on the path to each changed slot and shares every other node with the old one. So a
// snapshot keeps the precinct and county views of its own log size, and publishing a new one
// costs O(log n) per changed precinct, not O(n): a national election's 175,000 precincts in
// 3,000 counties are three levels below the root.
//
// The zero pvec is empty.
type pvec[T any] struct {
	root  *pnode[T]
	n     int
	shift uint // bits of an index above the leaves: 0 when the root is a leaf
}

const (
	pvecBits  = 5
	pvecWidth = 1 << pvecBits
	pvecMask  = pvecWidth - 1
)

// pnode is an inner node (kids) or a leaf (vals), with the edit that made it: that edit, and
// only it, may still change the node in place.
type pnode[T any] struct {
	edit *pedit
	kids []*pnode[T]
	vals []T
}

// pedit is one batch of changes to a vector: the nodes it makes are its own until done.
type pedit struct{ _ byte } // not zero-sized, so that every edit has its own address

// newPvec returns the vector of vals.
func newPvec[T any](vals []T) pvec[T] {
	v := pvec[T]{n: len(vals)}
	for (pvecWidth << v.shift) < len(vals) {
		v.shift += pvecBits
	}
	v.root = build(vals, v.shift)
	return v
}

// build makes the node of shift holding vals (at most pvecWidth << shift of them).
func build[T any](vals []T, shift uint) *pnode[T] {
	if shift == 0 {
		nd := &pnode[T]{vals: make([]T, pvecWidth)}
		copy(nd.vals, vals)
		return nd
	}
	nd := &pnode[T]{kids: make([]*pnode[T], pvecWidth)}
	span := pvecWidth << (shift - pvecBits)
	for i := 0; i*span < len(vals); i++ {
		nd.kids[i] = build(vals[i*span:min((i+1)*span, len(vals))], shift-pvecBits)
	}
	return nd
}

// Len is the number of values.
func (v pvec[T]) Len() int { return v.n }

// Get returns the value at i, 0 ≤ i < Len.
func (v pvec[T]) Get(i int) T {
	if i < 0 || i >= v.n {
		panic("tally: pvec index out of range")
	}
	nd := v.root
	for s := v.shift; s > 0; s -= pvecBits {
		nd = nd.kids[(i>>s)&pvecMask]
	}
	return nd.vals[i&pvecMask]
}

// All calls f with each index and value in order, until f returns false.
func (v pvec[T]) All(f func(int, T) bool) {
	if v.n > 0 {
		v.root.each(v.shift, 0, v.n, f)
	}
}

func (nd *pnode[T]) each(shift uint, base, n int, f func(int, T) bool) bool {
	if shift == 0 {
		for j := 0; j < pvecWidth && base+j < n; j++ {
			if !f(base+j, nd.vals[j]) {
				return false
			}
		}
		return true
	}
	span := pvecWidth << (shift - pvecBits)
	for j := 0; j < pvecWidth && base+j*span < n; j++ {
		if !nd.kids[j].each(shift-pvecBits, base+j*span, n, f) {
			return false
		}
	}
	return true
}

// Edit starts a batch of changes to v: Set on the returned builder, then Done.
func (v pvec[T]) Edit() *pbuilder[T] {
	return &pbuilder[T]{v: v, edit: &pedit{}}
}

// pbuilder changes a vector in a batch: the first Set under a node copies it, later ones in the
// same batch change the copy. The vector it started from is never changed.
type pbuilder[T any] struct {
	v    pvec[T]
	edit *pedit
}

// Set puts x at i, 0 ≤ i < Len.
func (b *pbuilder[T]) Set(i int, x T) {
	if i < 0 || i >= b.v.n {
		panic("tally: pvec index out of range")
	}
	b.v.root = b.own(b.v.root)
	nd := b.v.root
	for s := b.v.shift; s > 0; s -= pvecBits {
		j := (i >> s) & pvecMask
		nd.kids[j] = b.own(nd.kids[j])
		nd = nd.kids[j]
	}
	nd.vals[i&pvecMask] = x
}

// own returns nd if this batch made it, else a copy this batch makes.
func (b *pbuilder[T]) own(nd *pnode[T]) *pnode[T] {
	if nd.edit == b.edit {
		return nd
	}
	c := &pnode[T]{edit: b.edit}
	if nd.kids != nil {
		c.kids = append(make([]*pnode[T], 0, pvecWidth), nd.kids...)
	} else {
		c.vals = append(make([]T, 0, pvecWidth), nd.vals...)
	}
	return c
}

// Done returns the new vector; the builder must not be used again, so that the vector's nodes
// are never changed after it is published.
func (b *pbuilder[T]) Done() pvec[T] {
	v := b.v
	b.v, b.edit = pvec[T]{}, nil
	return v
}
