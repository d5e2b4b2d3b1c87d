// Package envfile reads environment files: KEY=VALUE lines such as a
// repository's B2 credentials. It accepts what systemd's EnvironmentFile=
// and shell scripts commonly hold: blank lines, # comments, an optional
// "export " prefix, and single- or double-quoted values.
package envfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Var is one variable.
type Var struct {
	Name, Value string
}

// String returns NAME=VALUE, the form exec.Cmd.Env takes.
func (v Var) String() string { return v.Name + "=" + v.Value }

// Error is a malformed line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// ReadFile parses the file at path.
func ReadFile(path string) ([]Var, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("environment file: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads variables from r, in order; name is used in errors. A name
// given twice keeps both entries, so the later one wins when the list is
// passed to exec.Cmd.Env. Every bad line is reported.
func Parse(r io.Reader, name string) ([]Var, error) {
	var vars []Var
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		v, ok, err := parseLine(sc.Text())
		if err != nil {
			errs = append(errs, &Error{File: name, Line: n, Msg: err.Error()})
		} else if ok {
			vars = append(vars, v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return vars, nil
}

func parseLine(line string) (Var, bool, error) {
	s := strings.TrimSpace(strings.TrimSuffix(line, "\r"))
	if s == "" || s[0] == '#' {
		return Var{}, false, nil
	}
	if rest, ok := strings.CutPrefix(s, "export "); ok {
		s = strings.TrimLeft(rest, " \t")
	}
	key, val, ok := strings.Cut(s, "=")
	if !ok {
		return Var{}, false, fmt.Errorf("expected KEY=VALUE, got %q", s)
	}
	key = strings.TrimSpace(key)
	if !validName(key) {
		return Var{}, false, fmt.Errorf("invalid variable name %q", key)
	}
	val = strings.TrimSpace(val)
	value, err := unquote(val)
	if err != nil {
		return Var{}, false, fmt.Errorf("%s: %w", key, err)
	}
	return Var{Name: key, Value: value}, true, nil
}

func validName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// unquote handles 'literal', "escaped" and bare values. Bare values are
// taken as they are, '#' included: keys and passwords may contain it.
func unquote(v string) (string, error) {
	if v == "" || (v[0] != '"' && v[0] != '\'') {
		return v, nil
	}
	q := v[0]
	var b strings.Builder
	i := 1
	for ; i < len(v) && v[i] != q; i++ {
		c := v[i]
		if q == '"' && c == '\\' && i+1 < len(v) {
			i++
			switch v[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '"', '\\', '$', '`':
				b.WriteByte(v[i])
			default:
				b.WriteByte('\\')
				b.WriteByte(v[i])
			}
			continue
		}
		b.WriteByte(c)
	}
	if i >= len(v) {
		return "", fmt.Errorf("unterminated %c quote", q)
	}
	if rest := strings.TrimSpace(v[i+1:]); rest != "" && rest[0] != '#' {
		return "", fmt.Errorf("unexpected %q after the closing quote", rest)
	}
	return b.String(), nil
}
