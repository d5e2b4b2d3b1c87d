//go:build !linux

package crypto

// laneMemory is scrypt's working memory from the Go heap.
func laneMemory(words int) ([]uint32, func(), error) {
	return make([]uint32, words), func() {}, nil
}
