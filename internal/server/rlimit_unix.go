//go:build unix

package server

import "syscall"

// fileLimit is the process's file-descriptor limit (the soft RLIMIT_NOFILE, which Go ≥ 1.19
// raises to the hard limit when the program starts), or 1024 when it cannot be read.
func fileLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == 0 {
		return 1024
	}
	return uint64(lim.Cur)
}
