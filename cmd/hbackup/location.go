package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/local"
	"github.com/hbackup/hbackup/backend/sftp"
)

// openLocation parses a repository location as restic does and opens the
// backend for it. This is the only place that knows every backend.
func openLocation(loc string, g *globalOptions) (backend.Backend, error) {
	if strings.HasPrefix(loc, "rest:") {
		return openREST(loc, g) // global_limits.go
	}
	if strings.HasPrefix(loc, "sftp:") {
		return openSFTP(loc, g)
	}
	for _, scheme := range []string{"b2:", "s3:", "gs:", "azure:", "swift:", "rclone:"} {
		if strings.HasPrefix(loc, scheme) {
			return nil, fmt.Errorf("repository %q: the %s backend is not supported yet (local repositories only)", loc, strings.TrimSuffix(scheme, ":"))
		}
	}
	return local.New(strings.TrimPrefix(loc, "local:"), local.Options{})
}

// openSFTP opens an sftp: location (the forms are listed at
// sftp.ParseURL) with the native SSH client, which reads ~/.ssh/config
// and ~/.ssh/known_hosts. Options, as restic's: -o sftp.command=CMD runs
// CMD for the SFTP session instead, -o sftp.args=ARGS runs the system
// ssh with ARGS, -o sftp.connections=N runs N operations at once.
func openSFTP(loc string, g *globalOptions) (backend.Backend, error) {
	cfg, err := sftp.ParseURL(loc)
	if err != nil {
		return nil, err
	}
	for _, o := range g.options {
		key, value, ok := strings.Cut(o, "=")
		key = strings.TrimSpace(key)
		if !strings.HasPrefix(key, "sftp.") {
			continue
		}
		if !ok {
			return nil, fmt.Errorf("invalid option %q: want key=value", o)
		}
		switch key {
		case "sftp.command":
			cfg.Command = value
		case "sftp.args":
			cfg.Args = value
		case "sftp.connections":
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil || n < 1 {
				return nil, fmt.Errorf("invalid option %q: want a number of connections of at least 1", o)
			}
			cfg.Connections = n
		default:
			return nil, fmt.Errorf("unknown option %q: the sftp backend knows sftp.command, sftp.args and sftp.connections", key)
		}
	}
	// openLocation has no context; connecting is bounded by the
	// backend's own handshake timeout.
	be, err := sftp.New(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	return g.decorateRemote(be, cfg.Connections)
}
