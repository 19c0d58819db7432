"""libtorrent DHT sessions on loopback, driven line by line over stdin.

Run only with Debian's /usr/bin/python3 and python3-libtorrent (2.0.x).

  lt_dht.py --bootstrap 127.0.0.1:P --ports Q1,Q2,... --save DIR [--timeout S]

Starts one session per port on 127.0.0.1 with the DHT on and every other
discovery off, joining through the bootstrap node (the settings that let
libtorrent form a private DHT on loopback: it otherwise refuses loopback
routing and unverified node IDs). Prints {"event": "ready"} and then reads
commands, one per line, answering each with one JSON line:

  announce IH        session 0 announces IH (40 hex digits) on its port
                     -> {"event": "announced"}
  peers IH           session 1 (or 0) looks IH up
                     -> {"event": "peers", "peers": ["ip:port", ...]}
  nodes              -> {"event": "nodes", "nodes": [n0, n1, ...]} (DHT
                     routing table sizes)

Exits when stdin closes, on SIGTERM, or after --timeout seconds.
"""

import argparse
import json
import os
import warnings
import signal
import sys
import threading
import time

import libtorrent as lt


def settings(port, bootstrap):
    return {
        "listen_interfaces": "127.0.0.1:%d" % port,
        "enable_dht": True,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_ip_notifier": False,
        "dht_bootstrap_nodes": bootstrap,
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_prefer_verified_node_ids": False,
        "dht_enforce_node_id": False,
        "alert_mask": lt.alert.category_t.dht_notification | lt.alert.category_t.dht_operation_notification | lt.alert.category_t.status_notification,
    }


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def ih_of(hexstr):
    return lt.sha1_hash(bytes.fromhex(hexstr))


warnings.simplefilter("ignore", DeprecationWarning)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--ports", required=True)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--save", required=True, help="empty directory for the announced torrents")
    a = ap.parse_args()

    def stop(*_):
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    t = threading.Timer(a.timeout, stop)
    t.daemon = True
    t.start()

    host, port = a.bootstrap.rsplit(":", 1)
    sessions = []
    for p in [int(x) for x in a.ports.split(",")]:
        s = lt.session(settings(p, a.bootstrap))
        s.add_dht_node((host, int(port)))
        sessions.append(s)
    emit({"event": "ready"})

    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        cmd = words[0]
        if cmd == "announce":
            atp = lt.add_torrent_params()
            atp.info_hashes = lt.info_hash_t(ih_of(words[1]))
            atp.save_path = a.save
            atp.flags &= ~lt.torrent_flags.auto_managed
            atp.flags &= ~lt.torrent_flags.paused
            h = sessions[0].add_torrent(atp)
            h.force_dht_announce()
            emit({"event": "announced"})
        elif cmd == "peers":
            s = sessions[1 if len(sessions) > 1 else 0]
            s.dht_get_peers(ih_of(words[1]))
            found = []
            deadline = time.time() + 10
            done = False
            while time.time() < deadline and not done:
                s.wait_for_alert(200)
                for al in s.pop_alerts():
                    if isinstance(al, lt.dht_get_peers_reply_alert):
                        found = ["%s:%d" % (ip, p) for ip, p in al.peers()]
                        done = True
            emit({"event": "peers", "peers": found})
        elif cmd == "nodes":
            out = []
            for s in sessions:
                out.append(s.status().dht_nodes)
            emit({"event": "nodes", "nodes": out})
        else:
            emit({"event": "error", "error": "unknown command " + cmd})
    stop()


if __name__ == "__main__":
    main()
