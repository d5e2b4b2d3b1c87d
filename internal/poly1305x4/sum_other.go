//go:build !amd64 || purego

package poly1305x4

// best is no kernel: Sum uses x/crypto.
var best kernel
