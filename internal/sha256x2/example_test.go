package sha256x2_test

import (
	"fmt"

	"github.com/hbackup/hbackup/internal/sha256x2"
)

// A stream of messages hashed two at a time: whichever lane finishes
// takes the next message.
func ExamplePair() {
	msgs := []string{"a long message, longer than a block of sixty-four bytes, hashed in lane 0", "abc", "", "xyz"}
	var p sha256x2.Pair
	lane := [2]int{}
	next := 0
	for {
		for i := range 2 {
			if !p.Busy(i) && next < len(msgs) {
				p.Start(i, []byte(msgs[next]))
				lane[i] = next
				next++
			}
		}
		if !p.Busy(0) && !p.Busy(1) {
			break
		}
		i, sum := p.Next()
		fmt.Printf("%q %x\n", msgs[lane[i]], sum[:4])
	}
	// Unordered output:
	// "abc" ba7816bf
	// "" e3b0c442
	// "xyz" 3608bca1
	// "a long message, longer than a block of sixty-four bytes, hashed in lane 0" 3d09d68f
}
