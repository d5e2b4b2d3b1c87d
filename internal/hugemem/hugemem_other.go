//go:build !linux

package hugemem

func mapHuge(int) ([]byte, bool) { return nil, false }

func unmap([]byte) {}
