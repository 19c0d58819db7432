"""Reference transfer between two libtorrent sessions over loopback TCP.

Run only with Debian's /usr/bin/python3 and python3-libtorrent (2.0.x).

  lt_ref.py seed --port P --file FILE --torrent OUT.torrent [--timeout S]
      Makes a v1 torrent of FILE, writes it to OUT.torrent, seeds FILE from
      its own directory on 127.0.0.1:P and prints READY once the files are
      checked and the torrent is seeding. Runs until SIGTERM, SIGINT or until
      standard input is closed (so it dies with its parent).

  lt_ref.py get --port Q --peer 127.0.0.1:P --torrent T --save DIR [--timeout S]
      Downloads T into the empty directory DIR from the one peer given,
      waits until every piece has passed its hash check (is_seeding), shuts
      the session down cleanly and prints {"bytes": N, "seconds": S}.

Settings, and why (everything else is libtorrent's default):
  - listen only on 127.0.0.1; DHT, LSD, UPnP, NAT-PMP, the IP change
    notifier and uTP are off, so the only traffic is one TCP connection.
  - send_buffer_watermark 8 MiB, low watermark 1 MiB, factor 150 %: the
    default 500 KB cap keeps too little in flight to fill a loopback link,
    where the round trip is microseconds and the limit is CPU, not the path.
  - max_queued_disk_bytes 16 MiB (default 1 MiB): the downloader stops
    reading its socket while this much data waits for the disk threads.
  - max_out_request_queue 1500 (default 500) so the downloader always has
    enough 16 KiB block requests outstanding.
  - tick_interval 100 ms (default 500): libtorrent makes its outgoing peer
    connections on the session tick, so the default delays the one
    connection of a transfer by up to half a second.
  - torrents are added neither paused nor auto-managed, so the session's
    queue (evaluated once per second) does not delay the start.
  - piece size 1 MiB, torrent v1 only (SHA-1 pieces): the classic, most
    widely deployed form and the cheapest to verify.
  - the disk cache and I/O threads keep their defaults (mmap-backed storage
    in 2.0), as a user would have them.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time

import libtorrent as lt

PIECE_SIZE = 1 << 20


def settings(port):
    return {
        "listen_interfaces": "127.0.0.1:%d" % port,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_ip_notifier": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_tcp": True,
        "enable_outgoing_tcp": True,
        "send_buffer_watermark": 8 << 20,
        "send_buffer_low_watermark": 1 << 20,
        "send_buffer_watermark_factor": 150,
        "max_queued_disk_bytes": 16 << 20,
        "max_out_request_queue": 1500,
        "tick_interval": 100,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification,
    }


def fail(msg):
    sys.stderr.write("lt_ref: %s\n" % msg)
    sys.stderr.flush()
    sys.exit(1)


def check_alerts(ses):
    """Fails on alerts that mean the transfer cannot happen."""
    for a in ses.pop_alerts():
        if isinstance(a, (lt.listen_failed_alert, lt.file_error_alert,
                          lt.torrent_error_alert, lt.add_torrent_alert)):
            if getattr(a, "error", None) is not None and a.error.value() != 0:
                fail(a.message())


def params(ti, save_path):
    atp = lt.add_torrent_params()
    atp.ti = ti
    atp.save_path = save_path
    atp.flags &= ~lt.torrent_flags.paused
    atp.flags &= ~lt.torrent_flags.auto_managed
    return atp


def seed(args):
    path = os.path.abspath(args.file)
    fs = lt.file_storage()
    lt.add_files(fs, path)
    ct = lt.create_torrent(fs, PIECE_SIZE, flags=lt.create_torrent.v1_only)
    lt.set_piece_hashes(ct, os.path.dirname(path))
    with open(args.torrent, "wb") as f:
        f.write(lt.bencode(ct.generate()))

    stop = threading.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.set())

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        stop.set()
    threading.Thread(target=watch_stdin, daemon=True).start()

    ses = lt.session(settings(args.port))
    h = ses.add_torrent(params(lt.torrent_info(args.torrent), os.path.dirname(path)))
    deadline = time.monotonic() + args.timeout
    while not h.status().is_seeding:
        if stop.is_set():
            return
        if time.monotonic() > deadline:
            fail("torrent not seeding after %.0f s" % args.timeout)
        ses.wait_for_alert(50)
        check_alerts(ses)
    print("READY", flush=True)
    while not stop.is_set():
        ses.wait_for_alert(200)
        ses.pop_alerts()


def get(args):
    start = time.monotonic()
    host, _, port = args.peer.rpartition(":")
    if host != "127.0.0.1":
        fail("peer %r is not on 127.0.0.1" % args.peer)
    ti = lt.torrent_info(args.torrent)
    os.makedirs(args.save, exist_ok=True)
    ses = lt.session(settings(args.port))
    h = ses.add_torrent(params(ti, args.save))
    deadline = start + args.timeout
    last_connect = None
    while True:
        st = h.status()
        if st.is_seeding:
            break
        now = time.monotonic()
        if now > deadline:
            fail("download incomplete after %.0f s (%d of %d bytes)"
                 % (args.timeout, st.total_wanted_done, st.total_wanted))
        # connect_peer is ignored while the torrent is still checking, and a
        # connection can fail; ask again while there is none.
        downloading = st.state == lt.torrent_status.states.downloading
        if downloading and st.num_peers == 0 and (
                last_connect is None or now - last_connect > 1.0):
            h.connect_peer((host, int(port)))
            last_connect = now
        ses.wait_for_alert(20)
        check_alerts(ses)
    # Close the session so every block is handed to the file before exit.
    ses.remove_torrent(h)
    del h
    del ses
    print(json.dumps({"bytes": ti.total_size(),
                      "seconds": round(time.monotonic() - start, 6)}), flush=True)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--file", required=True)
    s.add_argument("--torrent", required=True)
    s.add_argument("--timeout", type=float, default=600)
    g = sub.add_parser("get")
    g.add_argument("--port", type=int, required=True)
    g.add_argument("--peer", required=True)
    g.add_argument("--torrent", required=True)
    g.add_argument("--save", required=True)
    g.add_argument("--timeout", type=float, default=600)
    args = p.parse_args()
    if args.mode == "seed":
        seed(args)
    else:
        get(args)


if __name__ == "__main__":
    main()
