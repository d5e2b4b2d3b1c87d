package sftp

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// ParseURL parses a repository location in one of restic's two sftp
// forms:
//
//	sftp:[user@]host:path            path relative to the login directory,
//	sftp:[user@]host:/path           or absolute
//	sftp://[user@]host[:port]/path   relative
//	sftp://[user@]host[:port]//path  absolute
//
// The first form has no port (set it in ~/.ssh/config, or use the
// second form). The path is cleaned; "~" is refused, since SFTP servers
// do not expand it: a relative path already starts in the home
// directory.
func ParseURL(s string) (Config, error) {
	var cfg Config
	switch {
	case strings.HasPrefix(s, "sftp://"):
		u, err := url.Parse(s)
		if err != nil {
			return Config{}, fmt.Errorf("invalid sftp location %q: %w", s, err)
		}
		if u.User != nil {
			cfg.User = u.User.Username()
			if _, hasPass := u.User.Password(); hasPass {
				return Config{}, fmt.Errorf("invalid sftp location %q: passwords are not supported, use a key", s)
			}
		}
		cfg.Host = u.Hostname()
		if p := u.Port(); p != "" {
			port, err := strconv.ParseUint(p, 10, 16)
			if err != nil || port == 0 {
				return Config{}, fmt.Errorf("invalid sftp location %q: bad port %q", s, p)
			}
			cfg.Port = int(port)
		}
		if u.Path == "" {
			return Config{}, fmt.Errorf("invalid sftp location %q: no directory specified", s)
		}
		// The "/" after the host separates; a second one makes the
		// path absolute.
		cfg.Path = u.Path[1:]
	case strings.HasPrefix(s, "sftp:"):
		host, dir, ok := strings.Cut(s[len("sftp:"):], ":")
		if !ok {
			return Config{}, fmt.Errorf("invalid sftp location %q: want sftp:[user@]host:path", s)
		}
		if i := strings.LastIndex(host, "@"); i >= 0 {
			cfg.User, host = host[:i], host[i+1:]
		}
		if dir == "" {
			return Config{}, fmt.Errorf("invalid sftp location %q: no directory specified", s)
		}
		cfg.Host, cfg.Path = host, dir
	default:
		return Config{}, fmt.Errorf("invalid sftp location %q: does not start with sftp:", s)
	}
	if cfg.Host == "" {
		return Config{}, fmt.Errorf("invalid sftp location %q: no host specified", s)
	}
	if strings.HasPrefix(cfg.Host, "-") {
		return Config{}, fmt.Errorf("invalid sftp location %q: host name starts with '-'", s)
	}
	cfg.Path = path.Clean(cfg.Path)
	if strings.HasPrefix(cfg.Path, "~") {
		return Config{}, errors.New("sftp path starts with the tilde (~), which SFTP servers do not expand: " +
			"use a relative path, which starts in the home directory")
	}
	return cfg, nil
}
