package systemd

import "strings"

// quoteWord quotes s as one word of a unit setting. systemd expands "%"
// specifiers everywhere and, in Exec lines (exec true), "$" variables, so
// both are doubled; words with other special characters are put in
// double quotes with C escapes.
func quoteWord(s string, exec bool) string {
	if s == "" || strings.IndexFunc(s, unsafeRune) >= 0 {
		var b strings.Builder
		b.WriteByte('"')
		for _, r := range s {
			switch r {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteRune(r)
			case '\n':
				b.WriteString(`\n`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('"')
		s = b.String()
	}
	s = strings.ReplaceAll(s, "%", "%%")
	if exec {
		s = strings.ReplaceAll(s, "$", "$$")
	}
	return s
}

func unsafeRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	case strings.ContainsRune("/._-+=:,@%$", r):
		return false
	}
	return true
}
