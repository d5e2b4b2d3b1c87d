package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/limit"
	"github.com/hbackup/hbackup/backend/rest"
	"github.com/hbackup/hbackup/backend/retry"
	"github.com/spf13/pflag"
)

// Extended option keys the bandwidth flags are kept under. globalOptions
// has no fields for them, so --limit-upload N is stored as
// -o limit.upload=N would be (and that spelling works too).
const (
	optLimitUpload   = "limit.upload"
	optLimitDownload = "limit.download"
)

// registerLimits adds restic's bandwidth flags. It must run after -o is
// registered: pflag's string array drops what was appended before the
// first -o, so -o is made to append always (its default is empty, so
// nothing else changes).
func (g *globalOptions) registerLimits(fs *pflag.FlagSet) {
	if f := fs.Lookup("option"); f != nil {
		f.Value = appendingValue{Value: f.Value, g: g}
		f.DefValue = "" // keep help from printing "(default [])"
	}
	fs.Var(&optionFlag{g: g, key: optLimitUpload}, "limit-upload", "limits uploads to a maximum `rate` in KiB/s. (default: unlimited)")
	fs.Var(&optionFlag{g: g, key: optLimitDownload}, "limit-download", "limits downloads to a maximum `rate` in KiB/s. (default: unlimited)")
}

// appendingValue is the -o flag, appending every value to g.options.
type appendingValue struct {
	pflag.Value
	g *globalOptions
}

func (a appendingValue) Set(s string) error {
	a.g.options = append(a.g.options, s)
	return nil
}

// optionFlag is an integer flag whose value is appended to g.options.
type optionFlag struct {
	g     *globalOptions
	key   string
	value string
}

func (f *optionFlag) String() string { return f.value }
func (f *optionFlag) Type() string   { return "int" }

func (f *optionFlag) Set(s string) error {
	if _, err := strconv.Atoi(s); err != nil {
		return fmt.Errorf("invalid rate %q: %w", s, err)
	}
	f.value = s
	f.g.options = append(f.g.options, f.key+"="+s)
	return nil
}

// intOption returns the last value given for key with -o key=N; def when
// none is given.
func (g *globalOptions) intOption(key string, def int) (int, error) {
	v := def
	for _, o := range g.options {
		k, s, ok := strings.Cut(o, "=")
		if !ok || strings.TrimSpace(k) != key {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid option %q: want a non-negative integer", o)
		}
		v = n
	}
	return v, nil
}

// decorateRemote puts the limit and retry decorators around a remote
// backend: limit inside, so a connection is held only while a request
// runs, and retry outside, so waiting for a retry holds none.
// connections 0 keeps the backend's own default.
func (g *globalOptions) decorateRemote(be backend.Backend, connections int) (backend.Backend, error) {
	up, err := g.intOption(optLimitUpload, 0)
	if err != nil {
		return nil, err
	}
	down, err := g.intOption(optLimitDownload, 0)
	if err != nil {
		return nil, err
	}
	be = limit.New(be, limit.Options{Connections: connections, UploadKiB: up, DownloadKiB: down})
	return retry.New(be, retry.Options{Logger: g.logger}), nil
}

// openREST opens a rest: location. Credentials come from the URL, or
// else from RESTIC_REST_USERNAME and RESTIC_REST_PASSWORD, as restic.
func openREST(loc string, g *globalOptions) (backend.Backend, error) {
	conns, err := g.intOption("rest.connections", rest.DefaultConnections)
	if err != nil {
		return nil, err
	}
	if conns == 0 {
		return nil, fmt.Errorf("invalid option rest.connections=0: need at least one connection")
	}
	be, err := rest.New(rest.Config{
		URL:         loc,
		Username:    os.Getenv("RESTIC_REST_USERNAME"),
		Password:    os.Getenv("RESTIC_REST_PASSWORD"),
		Connections: conns,
	})
	if err != nil {
		return nil, err
	}
	return g.decorateRemote(be, conns)
}
