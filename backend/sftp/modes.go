package sftp

import (
	"context"
	"errors"
	"io/fs"

	"github.com/pkg/sftp"
)

// modes are the permissions given to repository directories and files,
// the same as restic's for local and sftp repositories.
type modes struct {
	dir  fs.FileMode
	temp fs.FileMode // a file being written
	file fs.FileMode // a finished file; read-only since files never change
}

var (
	defaultModes = modes{dir: 0o700, temp: 0o600, file: 0o400}
	groupModes   = modes{dir: 0o770, temp: 0o660, file: 0o440}
)

// modesFor derives the modes from the config file's mode: if the group
// may read config, the repository is shared with the group.
func modesFor(config fs.FileMode) modes {
	if config.Perm()&0o040 != 0 {
		return groupModes
	}
	return defaultModes
}

// configMode returns the mode of the repository's config file.
func (b *Backend) configMode(ctx context.Context) (fs.FileMode, error) {
	var mode fs.FileMode
	err := b.do(ctx, func(c *conn, _ bool) error {
		fi, err := c.sftp.Stat(b.join("config"))
		if err != nil {
			return err
		}
		mode = fi.Mode()
		return nil
	})
	return mode, err
}

// unsupported reports whether err says the server cannot do an optional
// operation (chmod on some servers); not worth failing a backup over.
func unsupported(err error) bool {
	var se *sftp.StatusError
	return errors.As(err, &se) && se.FxCode() == sftp.ErrSSHFxOpUnsupported
}
