package poly1305x4_test

import (
	"fmt"

	"github.com/hbackup/hbackup/internal/poly1305x4"
)

func ExampleSum() {
	var key [32]byte // a one-time key: r (clamped by Sum) and s
	key[0], key[16] = 1, 2
	msg := make([]byte, 4096)
	var tag [16]byte
	poly1305x4.Sum(&tag, msg, &key)

	// The same tag from pieces.
	m := poly1305x4.New(&key)
	m.Write(msg[:1000])
	m.Write(msg[1000:])
	var tag2 [16]byte
	m.Sum(&tag2)
	fmt.Println(tag == tag2)
	// Output: true
}
