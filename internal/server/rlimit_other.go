//go:build !unix

package server

// fileLimit is a conservative descriptor budget where the limit cannot be read.
func fileLimit() uint64 { return 1024 }
