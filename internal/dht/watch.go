package dht

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// WatchConfig configures Watch.
type WatchConfig struct {
	// Interval between lookups (default 30 s, at least 1 s).
	Interval time.Duration
	// AnnounceIfAlone: when a lookup finds no peer, announce Port instead
	// (0: the implied port), so that peers which do look — boosters that
	// help a source with little upload, say — find us.
	AnnounceIfAlone bool
	Port            int
	// Lookups bounds how many lookups Watch makes (0: until ctx ends).
	Lookups int
}

// Watch is reverse discovery, as a mobile source does it (the Tribler
// Mobile design): rather than announcing and waiting to be found, it looks
// up ih every cfg.Interval without announcing and calls found once for
// each peer not reported before, so the caller can connect to its viewers
// itself (which also works from behind a NAT that accepts no incoming
// traffic). With cfg.AnnounceIfAlone, a lookup that finds nobody is
// followed by an announce. On a read-only node (BEP 43) it neither answers
// nor enters others' tables. It returns when ctx ends, the node closes or
// cfg.Lookups lookups are done.
func (n *Node) Watch(ctx context.Context, ih ID, cfg WatchConfig, found func(netip.AddrPort)) error {
	every := cfg.Interval
	if every <= 0 {
		every = 30 * time.Second
	}
	every = max(every, time.Second)
	seen := make(map[netip.AddrPort]bool)
	for k := 0; cfg.Lookups == 0 || k < cfg.Lookups; k++ {
		if k > 0 {
			t := time.NewTimer(every)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-n.ctx.Done():
				t.Stop()
				return net.ErrClosed
			}
		}
		// A full lookup, unlike GetPeers, which returns with the first
		// node's peers: a source wants every viewer the closest nodes know.
		lctx, cancel := context.WithTimeout(ctx, every)
		r := n.iterate(lctx, ih, mGetPeers, n.seedRouters())
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		l := Lookup{Peers: r.peers}
		fresh := 0
		for _, p := range l.Peers {
			if !seen[p] && len(seen) < maxWatchPeers {
				seen[p] = true
				fresh++
				found(p)
			}
		}
		if len(l.Peers) == 0 && cfg.AnnounceIfAlone {
			actx, cancel := context.WithTimeout(ctx, every)
			_, err := n.Announce(actx, ih, cfg.Port)
			cancel()
			if err != nil {
				n.log.Debug("dht: watch: announce", "infohash", ih, "err", err)
			}
		}
		n.log.Debug("dht: watch", "infohash", ih, "peers", len(l.Peers), "new", fresh)
	}
	return nil
}

// maxWatchPeers bounds the peers one Watch remembers.
const maxWatchPeers = 4096
