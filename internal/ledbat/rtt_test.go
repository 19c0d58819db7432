package ledbat

import (
	"testing"
	"time"
)

func TestRTT(t *testing.T) {
	var r RTT
	if r.RTO() != InitialRTO || r.SRTT() != 0 {
		t.Errorf("zero RTT: RTO %v, SRTT %v", r.RTO(), r.SRTT())
	}
	r.MinRTO = 10 * time.Millisecond
	r.Sample(100 * time.Millisecond) // RFC 6298 §2.2
	if r.SRTT() != 100*time.Millisecond || r.RTTVar() != 50*time.Millisecond || r.RTO() != 300*time.Millisecond {
		t.Errorf("after first sample: SRTT %v RTTVAR %v RTO %v", r.SRTT(), r.RTTVar(), r.RTO())
	}
	r.Sample(200 * time.Millisecond) // RFC 6298 §2.3
	// RTTVAR = 3/4·50 + 1/4·100 = 62.5; SRTT = 7/8·100 + 1/8·200 = 112.5.
	if r.SRTT() != 112500*time.Microsecond || r.RTTVar() != 62500*time.Microsecond {
		t.Errorf("after second sample: SRTT %v RTTVAR %v", r.SRTT(), r.RTTVar())
	}
	if r.RTO() != 362500*time.Microsecond {
		t.Errorf("RTO %v, want 362.5ms", r.RTO())
	}
	r.Sample(0)
	r.Sample(-time.Second)
	if r.SRTT() != 112500*time.Microsecond {
		t.Error("non-positive samples were used")
	}

	// Backoff doubles up to MaxRTO; a sample undoes it.
	r.MaxRTO = 2 * time.Second
	for range 10 {
		r.Backoff()
	}
	if r.RTO() != 2*time.Second {
		t.Errorf("backed-off RTO %v, want MaxRTO", r.RTO())
	}
	r.Sample(112500 * time.Microsecond)
	if r.RTO() >= time.Second {
		t.Errorf("RTO %v after a new sample, want backoff undone", r.RTO())
	}

	// The RFC 6298 lower bound applies by default; G bounds the variance term.
	var d RTT
	for range 50 {
		d.Sample(10 * time.Millisecond)
	}
	if d.RTO() != DefaultMinRTO {
		t.Errorf("RTO %v, want the 1 s minimum", d.RTO())
	}
	d.MinRTO = time.Nanosecond
	if d.RTO() != 10*time.Millisecond+clockGranularity {
		t.Errorf("RTO %v with a steady 10ms RTT, want SRTT + G", d.RTO())
	}
}
