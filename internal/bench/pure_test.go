package bench

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestParseProcStat(t *testing.T) {
	// proc(5): pid (comm) state ppid pgrp session tty tpgid flags minflt
	// cminflt majflt cmajflt utime stime cutime cstime ...
	const tail = " 1 2 3 4 5 6 7 8 9 10 %s %s 13 14 20 0 4 0 5000 100000 300"
	for _, tc := range []struct {
		name, stat string
		want       uint64
	}{
		{"plain", "42 (nextshare) S" + fmt.Sprintf(tail, "150", "25"), 175},
		{"spaces and parens in comm", "42 (a b) (c)) R" + fmt.Sprintf(tail, "7", "3"), 10},
		{"zero", "1 (x) S" + fmt.Sprintf(tail, "0", "0"), 0},
		{"trailing newline", "1 (x) S" + fmt.Sprintf(tail, "1", "2") + "\n", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcStat([]byte(tc.stat))
			if err != nil || got != tc.want {
				t.Errorf("parseProcStat(%q) = %d, %v; want %d", tc.stat, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{
		"",
		"42 nextshare S 1 2 3",
		"42 (x) S 1 2 3 4 5 6 7 8 9 10 11",
		"42 (x) S" + fmt.Sprintf(tail, "-1", "2"),
		"42 (x) S" + fmt.Sprintf(tail, "1", "x"),
	} {
		if got, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q) = %d, want an error", bad, got)
		}
	}
}

func TestCPUTicksOfThisProcess(t *testing.T) {
	if _, err := cpuTicks(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := cpuTicks(-1); err == nil {
		t.Error("cpuTicks(-1) succeeded")
	}
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want Stat
	}{
		{nil, Stat{}},
		{[]float64{5}, Stat{5, 5, 5}},
		{[]float64{3, 1, 2}, Stat{2, 1, 3}},
		{[]float64{4, 1, 3, 2}, Stat{2.5, 1, 4}},
		{[]float64{9, 9, 1, 9, 1}, Stat{9, 1, 9}},
	} {
		in := append([]float64(nil), tc.in...)
		if got := summarize(in); got != tc.want {
			t.Errorf("summarize(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Errorf("summarize reordered its input: %v", in)
			}
		}
	}
}

func TestResultSummarize(t *testing.T) {
	const size = 1 << 29 // half a GiB: CPU per GiB is twice the CPU seconds
	r := Result{Size: size, Runs: []Run{
		newRun(size, 2, 0.5, 1),
		newRun(size, 1, 0.25, 2),
		newRun(size, 4, 1, 3),
	}}
	r.summarize()
	want := Result{
		MBps:            Stat{size / 1e6 / 2, size / 1e6 / 4, size / 1e6},
		Seconds:         Stat{2, 1, 4},
		SeederCPUPerGiB: Stat{1, 0.5, 2},
		GetterCPUPerGiB: Stat{4, 2, 6},
	}
	if r.MBps != want.MBps || r.Seconds != want.Seconds ||
		r.SeederCPUPerGiB != want.SeederCPUPerGiB || r.GetterCPUPerGiB != want.GetterCPUPerGiB {
		t.Errorf("summary %+v %+v %+v %+v, want %+v %+v %+v %+v",
			r.MBps, r.Seconds, r.SeederCPUPerGiB, r.GetterCPUPerGiB,
			want.MBps, want.Seconds, want.SeederCPUPerGiB, want.GetterCPUPerGiB)
	}
	if got := newRun(size, 0, 0, 0).MBps; got != 0 {
		t.Errorf("zero-second run has %v MB/s, want 0", got)
	}
}

func TestFindURI(t *testing.T) {
	hash := strings.Repeat("0123456789", 4)
	for _, tc := range []struct {
		line, want string
	}{
		{"ppsp://" + hash, "ppsp://" + hash},
		{"seeding movie.mp4 as ppsp://" + hash + " on 127.0.0.1:7000", "ppsp://" + hash},
		{"ppsp://" + hash + "abcdef0123456789abcdef01", "ppsp://" + hash + "abcdef0123456789abcdef01"},
		{"ppsp://" + hash + "?v=1", "ppsp://" + hash},
		{"ppsp://" + hash[:39], ""},                                 // too short
		{"ppsp://" + strings.ToUpper(hash[:30]) + "ABCDEFABCD", ""}, // not lower-case
		{"listening on 127.0.0.1:7000", ""},
		{"", ""},
	} {
		got, ok := findURI(tc.line)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("findURI(%q) = %q, %v; want %q", tc.line, got, ok, tc.want)
		}
	}
}

func TestCheckSummary(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      string // "" for success, else part of the error
	}{
		{"one line", `{"bytes":100,"seconds":0.5,"peers":1,"bytes_from":{"127.0.0.1:7000":100}}` + "\n", ""},
		{"after log lines", "starting\nfetching {chunk 3}\n{\"bytes\":100}\n", ""},
		{"indented multi-line", "done\n  {\n  \"bytes\": 100,\n  \"seconds\": 1\n}\n", ""},
		{"no newline", `{"bytes":100}`, ""},
		{"wrong size", `{"bytes":99}`, "reports 99 bytes, want 100"},
		{"no bytes", `{"seconds":1}`, `has no "bytes"`},
		{"none", "complete\n", "no JSON summary"},
		{"empty", "", "no JSON summary"},
		{"broken", "{\"bytes\":\n", "no JSON summary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkSummary([]byte(tc.out), 100)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("checkSummary(%q): %v", tc.out, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("checkSummary(%q) = %v, want an error containing %q", tc.out, err, tc.want)
			}
		})
	}
}

func TestPrintTable(t *testing.T) {
	ns := Result{Impl: ImplNextshare, Size: 256 << 20, Runs: make([]Run, 3),
		MBps: Stat{800, 750.04, 812.36}, Seconds: Stat{0.3355, 0.33, 0.358},
		SeederCPUPerGiB: Stat{Median: 0.5}, GetterCPUPerGiB: Stat{Median: 0.9}}
	lt := Result{Impl: ImplLibtorrent, Size: 256 << 20, Runs: make([]Run, 3),
		MBps: Stat{400, 390, 410}, Seconds: Stat{0.671, 0.655, 0.688},
		SeederCPUPerGiB: Stat{Median: 1}, GetterCPUPerGiB: Stat{Median: 0.6}}

	var b bytes.Buffer
	PrintTable(&b, []Result{ns, lt})
	want := `transfer of 256 MiB over loopback; figures are medians (min–max) of the runs
impl        runs  MB/s                 seconds              seeder CPU s/GiB  getter CPU s/GiB
nextshare   3     800.0 (750.0–812.4)  0.336 (0.330–0.358)  0.50              0.90
libtorrent  3     400.0 (390.0–410.0)  0.671 (0.655–0.688)  1.00              0.60
nextshare/libtorrent: MB/s 2.00, seeder CPU/GiB 0.50, getter CPU/GiB 1.50
`
	if b.String() != want {
		t.Errorf("PrintTable:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	skipped := Result{Impl: ImplLibtorrent, Size: 1000, Skipped: "no libtorrent"}
	PrintTable(&b, []Result{{Impl: ImplNextshare, Size: 1000, Runs: make([]Run, 1),
		MBps: Stat{1, 1, 1}, Seconds: Stat{1, 1, 1}}, skipped})
	want = `transfer of 1000 bytes over loopback; figures are medians (min–max) of the runs
impl        runs  MB/s           seconds              seeder CPU s/GiB  getter CPU s/GiB
nextshare   1     1.0 (1.0–1.0)  1.000 (1.000–1.000)  0.00              0.00
libtorrent  0     skipped
libtorrent: no libtorrent
`
	if b.String() != want {
		t.Errorf("PrintTable with a skipped reference:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	PrintTable(&b, nil)
	if b.String() != "no results\n" {
		t.Errorf("PrintTable(nil) = %q", b.String())
	}
}

func TestLineWriter(t *testing.T) {
	var lines []string
	w := &lineWriter{max: 16, onLine: func(s string) { lines = append(lines, s) }}
	for _, chunk := range []string{"ab", "c\nde", "f\r\n", "\n", "0123456789abcdefghij\n", "tail"} {
		w.Write([]byte(chunk))
	}
	want := []string{"abc", "def", "", "0123456789abcdef"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", lines, want)
	}
	if got := string(w.Bytes()); got != "abc\ndef\r\n\n012345" {
		t.Errorf("kept %q, want the first 16 bytes", got)
	}
}

func TestTailWriter(t *testing.T) {
	w := &tailWriter{max: 5}
	w.Write([]byte("abc"))
	w.Write([]byte("defg"))
	if got := w.String(); got != "cdefg" {
		t.Errorf("tail %q, want %q", got, "cdefg")
	}
}
