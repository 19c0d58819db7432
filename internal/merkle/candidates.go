package merkle

import "github.com/nextshare/nextshare/internal/bin"

// Candidates holds unverified hashes received from one peer (RFC 7574 §5.4:
// INTEGRITY messages carry the uncles a chunk needs). Keep one per peer
// channel so that a bad peer cannot poison the verification of data from
// good peers. It is bounded: Put refuses new bins beyond the cap given to
// NewCandidates. VerifyLeaf removes the candidates it uses, since they are
// then part of the tree.
//
// Hashes live in one flat buffer of cap slots, so Put, Get and Delete do not
// allocate once the buffer exists. The hash length is fixed by the first
// Put after construction or Reset.
type Candidates struct {
	max   int
	size  int // hash length in bytes; 0 until the first Put
	idx   map[bin.Bin]int32
	store []byte  // slot i at [i*size, (i+1)*size)
	used  int32   // slots [0, used) have been handed out
	free  []int32 // slots below used that were released
}

// NewCandidates returns an empty table holding at most limit hashes.
func NewCandidates(limit int) *Candidates {
	limit = min(max(limit, 0), 1<<30)
	return &Candidates{max: limit, idx: make(map[bin.Bin]int32, limit)}
}

// Put stores a copy of h as the candidate hash of b, replacing any earlier
// one. It returns false, storing nothing, if the table is full or h does
// not have the length of a Merkle hash function (or of the hashes already
// stored).
func (c *Candidates) Put(b bin.Bin, h []byte) bool {
	if b == bin.None || !validHashLen(len(h)) || (c.size != 0 && len(h) != c.size) {
		return false
	}
	if i, ok := c.idx[b]; ok {
		copy(c.slot(i), h)
		return true
	}
	if len(c.idx) >= c.max {
		return false
	}
	if c.size == 0 {
		c.size = len(h)
		if need := c.max * c.size; len(c.store) < need {
			c.store = make([]byte, need)
			c.free = make([]int32, 0, c.max)
		}
	}
	var i int32
	if k := len(c.free); k > 0 {
		i = c.free[k-1]
		c.free = c.free[:k-1]
	} else {
		i = c.used
		c.used++
	}
	copy(c.slot(i), h)
	c.idx[b] = i
	return true
}

// Get returns the candidate hash of b. The slice aliases the table and is
// valid until b is deleted or replaced, or the table is reset.
func (c *Candidates) Get(b bin.Bin) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	i, ok := c.idx[b]
	if !ok {
		return nil, false
	}
	return c.slot(i), true
}

// Delete removes the candidate hash of b, if any.
func (c *Candidates) Delete(b bin.Bin) {
	if c == nil {
		return
	}
	if i, ok := c.idx[b]; ok {
		delete(c.idx, b)
		c.free = append(c.free, i)
	}
}

// Len returns the number of candidate hashes held.
func (c *Candidates) Len() int {
	if c == nil {
		return 0
	}
	return len(c.idx)
}

// Reset removes every candidate hash and lets the next Put choose the hash
// length again. It keeps the memory for reuse.
func (c *Candidates) Reset() {
	clear(c.idx)
	c.size = 0
	c.used = 0
	c.free = c.free[:0]
}

// get is Get for a tree with hashes of size bytes: a candidate of another
// length counts as missing. c may be nil.
func (c *Candidates) get(b bin.Bin, size int) ([]byte, bool) {
	h, ok := c.Get(b)
	if !ok || len(h) != size {
		return nil, false
	}
	return h, true
}

func (c *Candidates) slot(i int32) []byte {
	o := int(i) * c.size
	return c.store[o : o+c.size : o+c.size]
}

func validHashLen(n int) bool {
	for f := SHA1; f <= SHA512; f++ {
		if f.Size() == n {
			return true
		}
	}
	return false
}
