// Package location reads restic repository locations: "local:/srv/repo"
// or a bare path, "sftp:host:/path", "rest:https://host/", "b2:bucket:path"
// and the schemes of backends hbackup does not have yet. It only splits a
// location into its backend and the rest; each backend parses its own
// part. One list of schemes serves the CLI, which opens repositories, and
// the job configuration, which checks them before any job runs.
package location

import (
	"errors"
	"fmt"
	"strings"
)

// Backend names the backend of a location.
type Backend string

// The backends a location can name. The last five are restic's that
// hbackup does not support yet.
const (
	Local  Backend = "local"
	SFTP   Backend = "sftp"
	REST   Backend = "rest"
	B2     Backend = "b2"
	S3     Backend = "s3"
	GS     Backend = "gs"
	Azure  Backend = "azure"
	Swift  Backend = "swift"
	Rclone Backend = "rclone"
)

var known = []Backend{Local, SFTP, REST, B2, S3, GS, Azure, Swift, Rclone}

// ErrUnsupported is returned (wrapped) by Split for a backend of restic's
// that hbackup does not have.
var ErrUnsupported = errors.New("not supported")

// Split returns the backend loc names and what follows its "scheme:"
// prefix. As in restic, a location without a known prefix is a local
// path, whatever colons it holds. For s3, gs, azure, swift and rclone it
// also returns an error wrapping ErrUnsupported.
func Split(loc string) (Backend, string, error) {
	for _, b := range known {
		rest, ok := strings.CutPrefix(loc, string(b)+":")
		if !ok {
			continue
		}
		switch b {
		case Local, SFTP, REST, B2:
			return b, rest, nil
		}
		return b, rest, fmt.Errorf("the %s backend is %w yet (hbackup supports local, sftp, rest and b2)", b, ErrUnsupported)
	}
	return Local, loc, nil
}

// LocalPath returns the directory of a local repository, and false for
// any other location.
func LocalPath(loc string) (string, bool) {
	b, path, err := Split(loc)
	return path, err == nil && b == Local
}
