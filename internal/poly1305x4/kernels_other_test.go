//go:build !amd64 || purego

package poly1305x4

func asmKernels() map[string]kernel { return nil }
