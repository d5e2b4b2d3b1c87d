package main

import (
	"context"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/b2"
	"github.com/hbackup/hbackup/backend/local"
	"github.com/hbackup/hbackup/backend/location"
	"github.com/hbackup/hbackup/backend/sftp"
)

// openLocation parses a repository location as restic does and opens the
// backend for it. This is the only place that knows every backend.
func openLocation(loc string, g *globalOptions) (backend.Backend, error) {
	b, path, err := location.Split(loc)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", loc, err)
	}
	switch b {
	case location.REST:
		return openREST(loc, g) // global_limits.go
	case location.SFTP:
		return openSFTP(loc, g)
	case location.B2:
		return openB2(loc, g)
	}
	return local.New(path, local.Options{})
}

// openSFTP opens an sftp: location (the forms are listed at
// sftp.ParseURL) with the native SSH client, which reads ~/.ssh/config
// and ~/.ssh/known_hosts. Options, as restic's: -o sftp.command=CMD runs
// CMD for the SFTP session instead, -o sftp.args=ARGS runs the system
// ssh with ARGS, -o sftp.connections=N runs N operations at once, and
// -o sftp.sessions=N (hbackup's own) spreads them over up to N SSH
// connections.
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
		case "sftp.sessions":
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil || n < 1 {
				return nil, fmt.Errorf("invalid option %q: want a number of SSH connections of at least 1", o)
			}
			cfg.Sessions = n
		default:
			return nil, fmt.Errorf("unknown option %q: the sftp backend knows sftp.command, sftp.args, sftp.connections and sftp.sessions", key)
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

// openB2 opens a b2:bucket[:path] location, as restic writes it, with
// the credentials in B2_ACCOUNT_ID and B2_ACCOUNT_KEY. Options:
// -o b2.connections=N (restic's), -o b2.hard-delete=false to hide
// removed files instead of deleting every version, and
// -o b2.endpoint=URL to authorize elsewhere (tests use an emulator).
func openB2(loc string, g *globalOptions) (backend.Backend, error) {
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(loc, "b2:"), ":")
	if bucket == "" {
		return nil, fmt.Errorf("repository %q: want b2:bucket or b2:bucket:path", loc)
	}
	if prefix != "" {
		prefix = strings.TrimPrefix(path.Clean("/"+prefix), "/")
	}
	cfg := b2.Config{
		AccountID: os.Getenv("B2_ACCOUNT_ID"), Key: os.Getenv("B2_ACCOUNT_KEY"),
		Bucket: bucket, Prefix: prefix, Connections: b2.DefaultConnections, HardDelete: true,
	}
	for _, o := range g.options {
		key, value, ok := strings.Cut(o, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !strings.HasPrefix(key, "b2.") {
			continue
		}
		if !ok {
			return nil, fmt.Errorf("invalid option %q: want key=value", o)
		}
		switch key {
		case "b2.connections":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("invalid option %q: want a number of connections of at least 1", o)
			}
			cfg.Connections = n
		case "b2.hard-delete":
			v, err := strconv.ParseBool(value)
			if err != nil {
				return nil, fmt.Errorf("invalid option %q: want true or false", o)
			}
			cfg.HardDelete = v
		case "b2.endpoint":
			cfg.Endpoint = value
		default:
			return nil, fmt.Errorf("unknown option %q: the b2 backend knows b2.connections, b2.hard-delete and b2.endpoint", key)
		}
	}
	// openLocation has no context; authorizing gets a bounded one.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	be, err := b2.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return g.decorateRemote(be, cfg.Connections)
}
