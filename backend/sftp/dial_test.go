package sftp

import (
	"testing"
	"time"
)

// TestRequestsInFlight: enough requests for the link rate at the
// round-trip time, never fewer than 2 nor more than the cap.
func TestRequestsInFlight(t *testing.T) {
	for _, tc := range []struct {
		rtt    time.Duration
		packet int
		want   int
	}{
		{50 * time.Microsecond, openSSHMaxLength, 2},            // loopback
		{500 * time.Microsecond, openSSHMaxLength, 2},           // LAN: 134 KB in flight needed
		{500 * time.Microsecond, 32 << 10, 5},                   // LAN, 32 KiB packets
		{20 * time.Millisecond, openSSHMaxLength, 21},           // WAN: 5.4 MB
		{200 * time.Millisecond, 32 << 10, maxRequestsInFlight}, // capped
	} {
		if got := requestsInFlight(tc.rtt, tc.packet); got != tc.want {
			t.Errorf("requestsInFlight(%v, %d) = %d, want %d", tc.rtt, tc.packet, got, tc.want)
		}
	}
}
