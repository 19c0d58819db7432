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

BEP 44 items (SALT "-" means no salt; VALUE is the rest of the line, stored
as a bencoded byte string):

  put_mutable SEEDHEX SALT VALUE
                     session 0 stores VALUE signed with the ed25519 key of
                     seed SEEDHEX (64 hex digits), with the seq libtorrent
                     picks (one more than the stored one)
                     -> {"event": "put", "num_success": n, "seq": n,
                         "public_key": hex, "target": hex, "seconds": s}
  get_mutable PUBHEX SALT
                     session 1 (or 0) looks the item up
                     -> {"event": "item", "found": bool, "value": str,
                         "seq": n}
  put_immutable VALUE
                     -> {"event": "put", "num_success": n, "target": hex,
                         "seconds": s}

A put answers once libtorrent reports it done (it waits for every node it
sent the item to), or after 25 seconds with num_success 0.
  get_immutable TARGETHEX
                     -> {"event": "item", "found": bool, "value": str}

Exits when stdin closes, on SIGTERM, or after --timeout seconds.
"""

import argparse
import hashlib
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


# Ed25519 (RFC 8032) scalar multiplication, only to derive the key pair in
# libtorrent's form from a seed: the 64-byte expanded secret key (SHA-512
# of the seed, clamped) and the public key.
_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P


def _recover_x(y, sign):
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * pow(2, (_P - 1) // 4, _P) % _P
    if x & 1 != sign:
        x = _P - x
    return x


_GY = 4 * pow(5, _P - 2, _P) % _P
_GX = _recover_x(_GY, 0)
_G = (_GX, _GY, 1, _GX * _GY % _P)


def _add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def keypair(seed):
    h = bytearray(hashlib.sha512(seed).digest())
    h[0] &= 248
    h[31] &= 127
    h[31] |= 64
    x, y, z, _ = _mul(int.from_bytes(h[:32], "little"), _G)
    zi = pow(z, _P - 2, _P)
    x, y = x * zi % _P, y * zi % _P
    return bytes(h), (y | (x & 1) << 255).to_bytes(32, "little")


def salt_of(word):
    return b"" if word == "-" else word.encode()


def rest_of(line, n):
    """The rest of line after n words."""
    return line.strip().split(None, n)[n] if len(line.split()) > n else ""


def wait_alert(s, match, seconds=15):
    """The first alert for which match returns true, or None."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        s.wait_for_alert(200)
        for al in s.pop_alerts():
            if match(al):
                return al
    return None


def text(entry):
    if isinstance(entry, dict):  # the binding's form of an item
        entry = entry.get("value")
    if isinstance(entry, bytes):
        return entry.decode("utf-8", "replace")
    return "" if entry is None else str(entry)


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
        t0 = time.time()
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
                    # Replies to an earlier lookup may still arrive: take
                    # only this info-hash's.
                    if isinstance(al, lt.dht_get_peers_reply_alert) and str(al.info_hash) == words[1].lower():
                        found = ["%s:%d" % (ip, p) for ip, p in al.peers()]
                        done = True
            emit({"event": "peers", "peers": found})
        elif cmd == "put_mutable":
            sk, pk = keypair(bytes.fromhex(words[1]))
            salt = salt_of(words[2])
            sessions[0].dht_put_mutable_item(sk, pk, rest_of(line, 3).encode(), salt)
            al = wait_alert(sessions[0], lambda al: isinstance(al, lt.dht_put_alert) and bytes(al.public_key) == pk, 25)
            emit({"event": "put", "num_success": al.num_success if al else 0, "seq": al.seq if al else 0, "seconds": time.time() - t0,
                  "public_key": pk.hex(), "target": hashlib.sha1(pk + salt).hexdigest()})
        elif cmd == "get_mutable":
            s = sessions[1 if len(sessions) > 1 else 0]
            pk = bytes.fromhex(words[1])
            s.dht_get_mutable_item(pk, salt_of(words[2]))
            best = None

            def done(al):
                nonlocal best
                if isinstance(al, lt.dht_mutable_item_alert) and bytes(al.key) == pk:
                    if al.item is not None and (best is None or al.seq >= best[1]):
                        best = (al.item, al.seq)
                    return al.authoritative
                return False

            wait_alert(s, done)
            found = best is not None and best[0] not in (None, b"", {})
            emit({"event": "item", "found": found, "value": text(best[0]) if found else "", "seq": best[1] if found else 0})
        elif cmd == "put_immutable":
            target = sessions[0].dht_put_immutable_item(rest_of(line, 1).encode())
            al = wait_alert(sessions[0], lambda al: isinstance(al, lt.dht_put_alert) and str(al.target) == str(target), 25)
            emit({"event": "put", "num_success": al.num_success if al else 0, "target": str(target), "seconds": time.time() - t0})
        elif cmd == "get_immutable":
            s = sessions[1 if len(sessions) > 1 else 0]
            s.dht_get_immutable_item(ih_of(words[1]))
            al = wait_alert(s, lambda al: isinstance(al, lt.dht_immutable_item_alert) and str(al.target) == words[1])
            found = al is not None and al.item not in (None, b"", {})
            emit({"event": "item", "found": found, "value": text(al.item) if found else ""})
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
