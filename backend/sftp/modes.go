package sftp

import (
	"context"
	"errors"
	"io/fs"

	"github.com/pkg/sftp"
)

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
