package sftp

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A small reader of OpenSSH client configuration files (ssh_config(5)):
// enough to resolve a Host alias the way ssh does. It knows Host blocks
// with "*", "?" and "!" patterns, Include, and that the first value of a
// keyword wins. Match blocks are skipped except "Match all".

// configLine is one keyword line, with the Host section it belongs to.
type configLine struct {
	sec  section
	key  string // lower case
	args []string
}

// section is the Host (or Match) block a line is in.
type section struct {
	patterns []string // nil: every host
	never    bool     // an unsupported Match block
}

func (s section) matches(host string) bool {
	if s.never {
		return false
	}
	if s.patterns == nil {
		return true
	}
	host = strings.ToLower(host)
	matched := false
	for _, p := range s.patterns {
		neg := strings.HasPrefix(p, "!")
		if !globMatch(strings.ToLower(strings.TrimPrefix(p, "!")), host) {
			continue
		}
		if neg {
			return false // a negated match excludes the host outright
		}
		matched = true
	}
	return matched
}

// sshConfig is the lines of one or more configuration files, in order.
type sshConfig struct {
	lines []configLine
}

// maxIncludeDepth is ssh's own limit on nested Include directives.
const maxIncludeDepth = 16

// read appends the lines of file; a missing file adds nothing.
// Relative Include paths are taken from dir.
func (c *sshConfig) read(file, dir, home string, sec section, depth int) error {
	if depth > maxIncludeDepth {
		return fmt.Errorf("%s: Include nested too deeply", file)
	}
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }() // read-only
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		key, args, err := splitConfigLine(sc.Text())
		if err != nil {
			return fmt.Errorf("%s:%d: %w", file, n, err)
		}
		switch key {
		case "":
			continue
		case "host":
			sec = section{patterns: args}
		case "match":
			all := len(args) == 1 && strings.EqualFold(args[0], "all")
			sec = section{never: !all}
		case "include":
			for _, pattern := range args {
				if err := c.include(pattern, dir, home, sec, depth); err != nil {
					return fmt.Errorf("%s:%d: %w", file, n, err)
				}
			}
		default:
			if len(args) == 0 {
				return fmt.Errorf("%s:%d: %s has no value", file, n, key)
			}
			c.lines = append(c.lines, configLine{sec: sec, key: key, args: args})
		}
	}
	return sc.Err()
}

// include reads the files an Include pattern names, in sorted order.
func (c *sshConfig) include(pattern, dir, home string, sec section, depth int) error {
	pattern = expandTilde(pattern, home)
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(dir, pattern)
	}
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return err
	}
	for _, m := range matches {
		if err := c.read(m, dir, home, sec, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// splitConfigLine returns the lower-case keyword and the arguments of a
// line; an empty keyword for blank lines and comments. "Key=value" and
// double-quoted arguments are allowed.
func splitConfigLine(line string) (string, []string, error) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", nil, nil
	}
	end := strings.IndexAny(line, " \t=")
	if end < 0 {
		return strings.ToLower(line), nil, nil
	}
	key := strings.ToLower(line[:end])
	rest := strings.TrimLeft(line[end:], " \t")
	rest = strings.TrimLeft(strings.TrimPrefix(rest, "="), " \t")
	var args []string
	for rest != "" {
		if rest[0] == '"' {
			closing := strings.IndexByte(rest[1:], '"')
			if closing < 0 {
				return "", nil, errors.New("unterminated quote")
			}
			args = append(args, rest[1:1+closing])
			rest = strings.TrimLeft(rest[2+closing:], " \t")
			continue
		}
		if rest[0] == '#' {
			break // a comment after the arguments
		}
		word, tail := rest, ""
		if i := strings.IndexAny(rest, " \t"); i >= 0 {
			word, tail = rest[:i], rest[i:]
		}
		args = append(args, word)
		rest = strings.TrimLeft(tail, " \t")
	}
	return key, args, nil
}

// lookup returns the settings that apply to host: for each keyword, the
// arguments of its first applicable line, except IdentityFile and
// CertificateFile, which accumulate.
func (c *sshConfig) lookup(host string) hostSettings {
	hs := hostSettings{values: make(map[string][]string)}
	for _, l := range c.lines {
		if !l.sec.matches(host) {
			continue
		}
		switch l.key {
		case "identityfile":
			hs.identityFiles = append(hs.identityFiles, l.args[0])
		default:
			if _, seen := hs.values[l.key]; !seen {
				hs.values[l.key] = l.args
			}
		}
	}
	return hs
}

// hostSettings are the configuration values for one host.
type hostSettings struct {
	values        map[string][]string
	identityFiles []string
}

// get returns the first argument of key, or "".
func (hs hostSettings) get(key string) string {
	if v := hs.values[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// globMatch matches s against an ssh host pattern, where "*" matches any
// run of characters and "?" exactly one.
func globMatch(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			pattern = strings.TrimLeft(pattern, "*")
			if pattern == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if globMatch(pattern, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return s == ""
}

// expandTilde replaces a leading "~/" (or a lone "~") with home.
func expandTilde(p, home string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return p
}

// expandTokens replaces ssh's %-tokens (%% %d %h %n %p %r %u) and a
// leading "~" in a file name.
func expandTokens(s string, tokens map[byte]string, home string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		if s[i] == '%' {
			b.WriteByte('%')
		} else if v, ok := tokens[s[i]]; ok {
			b.WriteString(v)
		} else {
			b.WriteByte('%')
			b.WriteByte(s[i])
		}
	}
	return expandTilde(b.String(), home)
}
