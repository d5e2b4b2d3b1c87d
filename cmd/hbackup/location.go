package main

import (
	"fmt"
	"strings"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/local"
)

// openLocation parses a repository location as restic does and opens the
// backend for it. This is the only place that knows every backend.
func openLocation(loc string, g *globalOptions) (backend.Backend, error) {
	for _, scheme := range []string{"sftp:", "rest:", "b2:", "s3:", "gs:", "azure:", "swift:", "rclone:"} {
		if strings.HasPrefix(loc, scheme) {
			return nil, fmt.Errorf("repository %q: the %s backend is not supported yet (local repositories only)", loc, strings.TrimSuffix(scheme, ":"))
		}
	}
	return local.New(strings.TrimPrefix(loc, "local:"), local.Options{})
}
