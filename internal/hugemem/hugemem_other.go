//go:build !linux

package hugemem

// roundsToHugePages: nothing is mapped here, so Cap(n) is n.
const roundsToHugePages = false

func mapHuge(int) ([]byte, bool) { return nil, false }

func unmap([]byte) {}
