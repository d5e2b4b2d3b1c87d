// Package jsonscan is a cursor over JSON text for the hand-written
// decoders of hbackup's hot formats (trees, index files). It validates
// what it consumes as encoding/json would and reports anything it is not
// sure about as false, so that a decoder can decline the input and leave
// it to encoding/json: the result is then always what encoding/json
// would have produced.
package jsonscan

import (
	"unicode/utf16"
	"unicode/utf8"
)

// MaxSkipDepth bounds nesting in skipped values; deeper input is left to
// encoding/json, which has its own limit.
const MaxSkipDepth = 100

// Scanner reads Data from Pos.
type Scanner struct {
	Data []byte
	Pos  int
	buf  []byte // scratch for unescaped strings
}

// WS skips white space.
func (s *Scanner) WS() {
	for s.Pos < len(s.Data) {
		switch s.Data[s.Pos] {
		case ' ', '\t', '\n', '\r':
			s.Pos++
		default:
			return
		}
	}
}

// Consume consumes c if it comes next.
func (s *Scanner) Consume(c byte) bool {
	if s.Pos < len(s.Data) && s.Data[s.Pos] == c {
		s.Pos++
		return true
	}
	return false
}

// Peek returns the next byte, or 0 at the end.
func (s *Scanner) Peek() byte {
	if s.Pos < len(s.Data) {
		return s.Data[s.Pos]
	}
	return 0
}

// Literal consumes lit if the input continues with it; the caller checks
// what follows.
func (s *Scanner) Literal(lit string) bool {
	if len(s.Data)-s.Pos >= len(lit) && string(s.Data[s.Pos:s.Pos+len(lit)]) == lit {
		s.Pos += len(lit)
		return true
	}
	return false
}

// Null consumes null.
func (s *Scanner) Null() bool { return s.Literal("null") }

// Object reads the members of an object whose '{' was consumed, calling
// field for each key with the cursor on the value; field must consume the
// value. Keys with escapes are declined (they may match a field) unless
// mapKeys is set; then keys are decoded and may alias the scratch buffer.
func (s *Scanner) Object(mapKeys bool, field func(key []byte) bool) bool {
	s.WS()
	if s.Consume('}') {
		return true
	}
	for {
		var key []byte
		var ok bool
		if mapKeys {
			key, ok = s.Str()
		} else {
			var esc bool
			key, esc, ok = s.RawString()
			ok = ok && !esc
		}
		if !ok {
			return false
		}
		s.WS()
		if !s.Consume(':') {
			return false
		}
		s.WS()
		if !field(key) {
			return false
		}
		s.WS()
		if s.Consume(',') {
			s.WS()
			continue
		}
		return s.Consume('}')
	}
}

// Array reads the elements of an array whose '[' was consumed; elem must
// consume one element.
func (s *Scanner) Array(elem func() bool) bool {
	s.WS()
	if s.Consume(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		s.WS()
		if s.Consume(',') {
			s.WS()
			continue
		}
		return s.Consume(']')
	}
}

// PlainKey reports whether an unmatched key is certainly unknown to
// encoding/json: without upper case or non-ASCII bytes it cannot match a
// (lower-case ASCII) field name case-insensitively.
func PlainKey(key []byte) bool {
	for _, c := range key {
		if c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

// RawString scans a JSON string, validating its escapes, and returns the
// bytes between the quotes and whether any escape occurs.
func (s *Scanner) RawString() (raw []byte, esc, ok bool) {
	if s.Peek() != '"' {
		return nil, false, false
	}
	start := s.Pos + 1
	for i := start; i < len(s.Data); i++ {
		c := s.Data[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		switch {
		case c == '"':
			s.Pos = i + 1
			return s.Data[start:i], esc, true
		case c == '\\':
			esc = true
			i++
			if i >= len(s.Data) {
				return nil, false, false
			}
			switch s.Data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(s.Data) || hex4(s.Data[i+1:i+5]) < 0 {
					return nil, false, false
				}
				i += 4
			default:
				return nil, false, false
			}
		default: // a control character
			return nil, false, false
		}
	}
	return nil, false, false
}

// Str reads a JSON string and returns its value, aliasing the input or
// the scratch buffer (valid until the next Str). Invalid UTF-8, which
// encoding/json replaces, is declined.
func (s *Scanner) Str() ([]byte, bool) {
	raw, esc, ok := s.RawString()
	if !ok || !utf8.Valid(raw) {
		return nil, false
	}
	if !esc {
		return raw, true
	}
	return s.unescape(raw)
}

// unescape decodes the escapes of a validated raw string into s.buf.
func (s *Scanner) unescape(raw []byte) ([]byte, bool) {
	b := s.buf[:0]
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		i++
		switch c = raw[i]; c {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hex4(raw[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) {
				// Only a valid pair; encoding/json replaces the rest.
				if i+6 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
					return nil, false
				}
				r = utf16.DecodeRune(r, hex4(raw[i+3:i+7]))
				if r == utf8.RuneError {
					return nil, false
				}
				i += 6
			}
			b = utf8.AppendRune(b, r)
		default: // '"', '\\', '/'
			b = append(b, c)
		}
	}
	s.buf = b
	return b, true
}

// hex4 decodes four hex digits, or returns -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		v := unhex(c)
		if v < 0 {
			return -1
		}
		r = r<<4 | rune(v)
	}
	return r
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// Uint reads a JSON number that must be an unsigned integer of the given
// bit size; anything else is an error in encoding/json, so it is declined.
func (s *Scanner) Uint(bits uint) (uint64, bool) {
	start := s.Pos
	var v uint64
	for s.Pos < len(s.Data) {
		c := s.Data[s.Pos]
		if c < '0' || c > '9' {
			break
		}
		if v > (1<<64-1)/10 || v*10 > 1<<64-1-uint64(c-'0') {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
		s.Pos++
	}
	n := s.Pos - start
	if n == 0 || n > 1 && s.Data[start] == '0' {
		return 0, false
	}
	if c := s.Peek(); c == '.' || c == 'e' || c == 'E' {
		return 0, false
	}
	if bits < 64 && v >= 1<<bits {
		return 0, false
	}
	return v, true
}

// Skip validates and consumes one JSON value nested depth levels deep.
func (s *Scanner) Skip(depth int) bool {
	switch s.Peek() {
	case '"':
		_, _, ok := s.RawString()
		return ok
	case '{':
		if depth >= MaxSkipDepth {
			return false
		}
		s.Pos++
		return s.Object(false, func([]byte) bool { return s.Skip(depth + 1) })
	case '[':
		if depth >= MaxSkipDepth {
			return false
		}
		s.Pos++
		return s.Array(func() bool { return s.Skip(depth + 1) })
	case 't':
		return s.Literal("true")
	case 'f':
		return s.Literal("false")
	case 'n':
		return s.Null()
	default:
		return s.Number()
	}
}

// Number validates a JSON number: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
func (s *Scanner) Number() bool {
	s.Consume('-')
	switch c := s.Peek(); {
	case c == '0':
		s.Pos++
	case '1' <= c && c <= '9':
		s.Digits()
	default:
		return false
	}
	if s.Consume('.') && !s.Digits() {
		return false
	}
	if c := s.Peek(); c == 'e' || c == 'E' {
		s.Pos++
		if c := s.Peek(); c == '+' || c == '-' {
			s.Pos++
		}
		if !s.Digits() {
			return false
		}
	}
	return true
}

// Digits consumes [0-9]* and reports whether there was at least one.
func (s *Scanner) Digits() bool {
	start := s.Pos
	for s.Pos < len(s.Data) && '0' <= s.Data[s.Pos] && s.Data[s.Pos] <= '9' {
		s.Pos++
	}
	return s.Pos > start
}
