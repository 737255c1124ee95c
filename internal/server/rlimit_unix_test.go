//go:build unix

package server

import (
	"syscall"
	"testing"
)

// TestFileLimit: the Go runtime has raised the soft descriptor limit to (one below) the hard
// limit before main runs (syscall's init since Go 1.19), which is why caucus serve does not
// call Setrlimit itself; and the event streams of both sites together stay below it.
func TestFileLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal("read RLIMIT_NOFILE:", err)
	}
	if uint64(lim.Cur)+1 < uint64(lim.Max) {
		t.Errorf("soft limit %d, hard %d: the runtime did not raise it", lim.Cur, lim.Max)
	}
	if got := fileLimit(); got != uint64(lim.Cur) {
		t.Errorf("fileLimit() = %d, want %d", got, lim.Cur)
	}
	for _, tt := range []struct {
		nofile uint64
		want   int
	}{{256, 128}, {1024, 512}, {20000, 10000}, {19999, 9999}, {1 << 20, maxStreams}} {
		if got := streamCap(tt.nofile); got != tt.want || uint64(got) >= tt.nofile {
			t.Errorf("streamCap(%d) = %d, want %d (below the limit)", tt.nofile, got, tt.want)
		}
	}
}
