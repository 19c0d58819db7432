// Package bench measures whole-file transfers over loopback: a nextshare
// seeder and downloader (two processes of the nextshare binary speaking
// PPSPP, RFC 7574, over UDP) and, as the reference, the same transfer
// between two libtorrent sessions over TCP, driven by the embedded script
// lt_ref.py under Debian's /usr/bin/python3 with python3-libtorrent.
//
// How figures are taken:
//   - MB is 10^6 bytes, GiB is 2^30 bytes.
//   - The source file is random bytes, created once per RunTransfer and
//     shared by every run of every implementation.
//   - A transfer's time runs from starting the downloader process to its
//     exit; the seeder is started and ready (its URI or READY printed)
//     before that.
//   - The downloader's CPU time is its user+system time from wait4; the
//     seeder's is the growth of utime+stime in /proc/<pid>/stat between just
//     before the downloader starts and just after it exits.
//   - Each run's output is compared with the source by SHA-256; a mismatch
//     fails the run and RunTransfer.
//   - Figures are reported as the median of the runs, with min and max.
//   - Implementations run one after the other in the same call.
//
// Guarantees: every wait is bounded (Config.Timeout and fixed grace
// periods); every child process is stopped by its PID before RunTransfer
// returns, also when ctx is cancelled; the files RunTransfer creates are
// removed when it returns.
package bench
