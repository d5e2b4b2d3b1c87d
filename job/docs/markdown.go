package docs

import (
	"fmt"
	"strings"
)

// md accumulates the document.
type md struct{ strings.Builder }

func (m *md) p(format string, args ...any) { fmt.Fprintf(m, format+"\n", args...) }

func (m *md) h(level int, title string) {
	m.p("%s %s\n", strings.Repeat("#", level), title)
}

// table writes a GitHub-flavoured Markdown table; cells may hold code spans.
func (m *md) table(header []string, rows [][]string) {
	m.p("| %s |", strings.Join(header, " | "))
	m.p("|%s", strings.Repeat("---|", len(header)))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = cell(c)
		}
		m.p("| %s |", strings.Join(cells, " | "))
	}
	m.p("")
}

// shell writes a fenced block of command lines.
func (m *md) shell(lines ...string) {
	m.p("```sh")
	for _, l := range lines {
		m.p("%s", l)
	}
	m.p("```\n")
}

// cell escapes what would end a table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.NewReplacer("\r\n", " ", "\n", " ").Replace(s)
}

// code formats s as an inline code span, whatever backticks it holds.
func code(s string) string {
	if s == "" {
		return "(empty)"
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// codes formats each item as code, comma separated; none gives "none".
func codes(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = code(s)
	}
	return strings.Join(out, ", ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// shq quotes s for a POSIX shell when it needs it.
func shq(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_@%+=:,./-", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// commandLine joins words into a shell command line.
func commandLine(words ...string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shq(w)
	}
	return strings.Join(q, " ")
}
