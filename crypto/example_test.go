package crypto_test

import (
	"fmt"
	"time"

	"github.com/hbackup/hbackup/crypto"
)

// A master key encrypts data; a key file protects the master key with a
// password, as in every restic repository.
func Example() {
	master := crypto.NewRandomKey()
	sealed := master.Seal(nil, []byte("hello"))
	fmt.Println("overhead:", len(sealed)-len("hello"))

	kf, _ := crypto.NewKeyFile(master, "correct horse", crypto.Params{N: 1024, R: 8, P: 1}, "me", "host", time.Now())
	opened, err := kf.Open("correct horse")
	if err != nil {
		panic(err)
	}
	plain, _ := opened.Open(nil, sealed)
	fmt.Println(string(plain))
	_, err = kf.Open("wrong")
	fmt.Println(err)
	// Output:
	// overhead: 32
	// hello
	// wrong password or no key found
}
