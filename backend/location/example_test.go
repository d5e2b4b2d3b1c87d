package location_test

import (
	"fmt"

	"github.com/hbackup/hbackup/backend/location"
)

func ExampleSplit() {
	for _, loc := range []string{"/srv/restic", "sftp:nas:/backups/home", "s3:host/bucket"} {
		b, rest, err := location.Split(loc)
		fmt.Printf("%s %q %v\n", b, rest, err != nil)
	}
	// Output:
	// local "/srv/restic" false
	// sftp "nas:/backups/home" false
	// s3 "host/bucket" true
}
