package wire

import "testing"

// A seeder's typical datagram: one uncle hash and a 1024-byte DATA.
func dataDatagram() []byte {
	b := AppendChannel(nil, 0xe3813f80)
	b = Integrity{rng(3, 3), make([]byte, 20)}.Append(b, DefaultParams)
	return Data{rng(2, 2), 1795416110744299, content(2048, 1024)}.Append(b, DefaultParams)
}

// A downloader's typical datagram (vod-4097 frame 5): HAVE + ACK + REQUEST.
func ackDatagram() []byte {
	return AppendMessages(AppendChannel(nil, 0xe37f9bbe), DefaultParams,
		Have{rng(0, 0)}, Ack{rng(0, 0), 16}, Request{rng(4, 4)})
}

func benchmarkReader(b *testing.B, dgram []byte, want int) {
	var r Reader
	var m Msg
	b.SetBytes(int64(len(dgram)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Reset(dgram, DefaultParams); err != nil {
			b.Fatal(err)
		}
		n := 0
		for r.Next(&m) {
			n++
		}
		if n != want || r.Err() != nil {
			b.Fatalf("%d messages, err %v", n, r.Err())
		}
	}
}

func BenchmarkReaderData(b *testing.B)       { benchmarkReader(b, dataDatagram(), 2) }
func BenchmarkReaderHaveAckReq(b *testing.B) { benchmarkReader(b, ackDatagram(), 3) }

func BenchmarkAppendData(b *testing.B) {
	m := Data{rng(2, 2), 1795416110744299, content(2048, 1024)}
	buf := make([]byte, 0, 1500)
	b.SetBytes(int64(m.Len(DefaultParams)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendChannel(buf[:0], 0xe3813f80)
		buf = m.Append(buf, DefaultParams)
	}
}

// Decoding allocates nothing; a benchmark reports it, this test enforces it.
func TestReaderDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count")
	}
	for _, dgram := range [][]byte{dataDatagram(), ackDatagram(), libswiftCaptures(t)[1].bytes(t), libswiftCaptures(t)[11].bytes(t)} {
		var r Reader
		var m Msg
		allocs := testing.AllocsPerRun(100, func() {
			r.Reset(dgram, DefaultParams)
			for r.Next(&m) {
			}
		})
		if allocs != 0 || r.Err() != nil {
			t.Errorf("%d allocations per datagram, err %v", int(allocs), r.Err())
		}
	}
	m := Data{rng(2, 2), 1, content(0, 1024)}
	buf := make([]byte, 0, 1500)
	if allocs := testing.AllocsPerRun(100, func() { buf = m.Append(AppendChannel(buf[:0], 1), DefaultParams) }); allocs != 0 {
		t.Errorf("Append DATA: %d allocations", int(allocs))
	}
}
