package filter

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ReadPatternFile reads patterns from a file as restic reads --exclude-file,
// --iexclude-file, --include-file and --iinclude-file: the text may be UTF-8
// (with or without byte order mark) or UTF-16 with a byte order mark; every
// line is trimmed of surrounding white space; empty lines and lines starting
// with "#" are skipped; $VAR and ${VAR} are replaced by the environment
// variable's value (empty when unset) and "$$" by a literal "$". "~" is not
// expanded.
func ReadPatternFile(name string) ([]string, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("failed to read patterns from file %q: %w", name, err)
	}
	return parsePatternLines(decodeText(data), os.Getenv), nil
}

// readPatternFiles concatenates the patterns of several files, in order.
func readPatternFiles(names []string) ([]string, error) {
	var all []string
	for _, name := range names {
		ps, err := ReadPatternFile(name)
		if err != nil {
			return nil, err
		}
		all = append(all, ps...)
	}
	return all, nil
}

func parsePatternLines(text string, getenv func(string) string) []string {
	// os.Expand passes "$" for "$$"; keep it instead of looking it up.
	mapping := func(name string) string {
		if name == "$" {
			return "$"
		}
		return getenv(name)
	}
	var out []string
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, os.Expand(line, mapping))
	}
	return out
}

// decodeText strips a byte order mark and converts UTF-16 to UTF-8, like
// restic's textfile package. Text without a mark is taken as UTF-8.
func decodeText(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte{0xef, 0xbb, 0xbf}):
		return string(data[3:])
	case bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		return decodeUTF16(data[2:], true)
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}):
		return decodeUTF16(data[2:], false)
	}
	return string(data)
}

func decodeUTF16(b []byte, bigEndian bool) string {
	units := make([]uint16, len(b)/2)
	for i := range units {
		hi, lo := b[2*i], b[2*i+1]
		if !bigEndian {
			hi, lo = lo, hi
		}
		units[i] = uint16(hi)<<8 | uint16(lo)
	}
	s := string(utf16.Decode(units))
	if len(b)%2 != 0 {
		s += string(utf8.RuneError) // a dangling byte is not a character
	}
	return s
}
