package dht

// MethodStats counts KRPC messages of one method.
type MethodStats struct {
	QueriesSent       uint64
	QueriesReceived   uint64
	ResponsesSent     uint64
	ResponsesReceived uint64
	ErrorsSent        uint64
	ErrorsReceived    uint64
	Timeouts          uint64 // our queries that got no answer in time
}

// Stats is a snapshot of a node's counters.
type Stats struct {
	Ping         MethodStats
	FindNode     MethodStats
	GetPeers     MethodStats
	AnnouncePeer MethodStats
	Get          MethodStats // BEP 44
	Put          MethodStats // BEP 44
	Other        MethodStats // unknown methods

	Malformed   uint64 // datagrams that failed to decode (including oversized ones)
	Oversized   uint64 // datagrams longer than the largest accepted
	RateLimited uint64 // queries dropped by the per-source rate limit
	Unmatched   uint64 // answers with no pending transaction for their source
	Timeouts    uint64 // all our queries that timed out
	Ignored     uint64 // queries not answered because the node is read-only

	Nodes      int    // routing-table size
	Contacts   int    // nodes remembered for starting lookups (see doc.go)
	Peers      int    // peers in the peer store
	InfoHashes int    // info-hashes in the peer store
	StoreFull  uint64 // announces refused because the peer store was full
	Items      int    // BEP 44 items stored
	ItemBytes  int    // their accounted size
	ItemsFull  uint64 // puts refused because the item store was full
	PendingTx  int    // outstanding transactions
	RTTEntries int    // nodes with an RTT estimate
}

func (s *Stats) method(m string) *MethodStats {
	switch m {
	case mPing:
		return &s.Ping
	case mFindNode:
		return &s.FindNode
	case mGetPeers:
		return &s.GetPeers
	case mAnnounce:
		return &s.AnnouncePeer
	case mGet:
		return &s.Get
	case mPut:
		return &s.Put
	}
	return &s.Other
}

// Stats returns a snapshot of the node's counters.
func (n *Node) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.stats
	s.Nodes = n.tbl.len()
	s.Contacts = n.contacts.len()
	s.Peers = n.peers.total
	s.InfoHashes = len(n.peers.m)
	s.StoreFull = n.peers.full
	s.Items = len(n.items.m)
	s.ItemBytes = n.items.bytes
	s.ItemsFull = n.items.full
	s.PendingTx = len(n.pending)
	s.RTTEntries = len(n.rtt)
	return s
}

func (s Stats) sum(f func(MethodStats) uint64) uint64 {
	return f(s.Ping) + f(s.FindNode) + f(s.GetPeers) + f(s.AnnouncePeer) + f(s.Get) + f(s.Put) + f(s.Other)
}

// QueriesSent is the number of queries sent, all methods together.
func (s Stats) QueriesSent() uint64 {
	return s.sum(func(m MethodStats) uint64 { return m.QueriesSent })
}

// ResponsesSent is the number of responses sent, all methods together.
func (s Stats) ResponsesSent() uint64 {
	return s.sum(func(m MethodStats) uint64 { return m.ResponsesSent })
}
