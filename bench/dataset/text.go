package dataset

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// flavour is the content type of a small file.
type flavour int

const (
	flavourProse flavour = iota
	flavourCode
	flavourConfig
	flavourLog
	flavourJSON
	flavourMarkdown
	flavourBase64
)

func (f flavour) ext() string {
	return [...]string{"txt", "go", "conf", "log", "json", "md", "b64"}[f]
}

// pickFlavour maps a percentile to a flavour with weights
// prose 25, code 20, config 10, log 15, json 15, markdown 10, base64 5.
func pickFlavour(pct int) flavour {
	cum := 0
	for f, w := range [...]int{25, 20, 10, 15, 15, 10, 5} {
		cum += w
		if pct < cum {
			return flavour(f)
		}
	}
	return flavourBase64
}

// textGen appends lines of one kind. It carries the running timestamp (Unix
// milliseconds) and line number, so successive lines look like a real log.
type textGen struct {
	r    *rand.Rand
	v    *vocab
	ms   int64
	line int
}

func (g *textGen) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *textGen) num(b []byte, n int) []byte { return strconv.AppendInt(b, int64(g.r.IntN(n)), 10) }

func (g *textGen) hex(b []byte, n int) []byte {
	const digits = "0123456789abcdef"
	for range n {
		b = append(b, digits[g.r.IntN(16)])
	}
	return b
}

func (g *textGen) words(b []byte, n int) []byte {
	for i := range n {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, g.pick(g.v.words)...)
	}
	return b
}

// next appends one line of kind k (or of flavour fl for small files).
func (g *textGen) next(b []byte, k kind, fl flavour) []byte {
	g.ms += int64(g.r.IntN(250))
	switch k {
	case kindAppLog:
		b = g.appLog(b)
	case kindAccessLog:
		b = g.accessLog(b)
	case kindJSONL:
		b = g.jsonLine(b)
	case kindCSV:
		b = g.csvLine(b)
	default:
		b = g.smallLine(b, fl)
	}
	g.line++
	return b
}

func (g *textGen) now() time.Time { return time.UnixMilli(g.ms).UTC() }

func (g *textGen) appLog(b []byte) []byte {
	b = g.now().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	lv := g.pick(g.v.levels)
	b = append(b, ' ')
	b = append(b, lv...)
	b = append(b, strings.Repeat(" ", 6-len(lv))...)
	b = append(b, '[')
	b = append(b, g.pick(g.v.components)...)
	b = append(b, '-')
	b = g.num(b, 16)
	b = append(b, "] request_id="...)
	b = g.hex(b, 12)
	b = append(b, " user_id="...)
	b = g.num(b, 50000)
	b = append(b, " duration_ms="...)
	b = strconv.AppendInt(b, int64(g.r.ExpFloat64()*40), 10)
	b = append(b, ` msg="`...)
	b = g.words(b, 3+g.r.IntN(8))
	return append(b, "\"\n"...)
}

func (g *textGen) accessLog(b []byte) []byte {
	b = fmt.Appendf(b, "10.%d.%d.%d - - [", g.r.IntN(4), g.r.IntN(256), g.r.IntN(256))
	b = g.now().AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, `] "`...)
	b = append(b, g.pick(g.v.methods)...)
	b = append(b, ' ')
	b = append(b, g.pick(g.v.urls)...)
	if g.r.IntN(3) == 0 {
		b = append(b, '/')
		b = g.num(b, 100000)
	}
	b = append(b, ` HTTP/1.1" `...)
	b = append(b, g.pick(g.v.statuses)...)
	b = append(b, ' ')
	b = g.num(b, 60000)
	b = append(b, ` "-" "`...)
	b = append(b, g.pick(g.v.agents)...)
	return append(b, "\"\n"...)
}

func (g *textGen) jsonLine(b []byte) []byte {
	b = append(b, `{"ts":`...)
	b = strconv.AppendInt(b, g.ms, 10)
	b = append(b, `,"event":"`...)
	b = append(b, g.pick(g.v.events)...)
	b = append(b, `","user":"u`...)
	b = g.num(b, 100000)
	b = append(b, `","session":"`...)
	b = g.hex(b, 16)
	b = append(b, `","props":{"page":"`...)
	b = append(b, g.pick(g.v.urls)...)
	b = append(b, `","country":"`...)
	b = append(b, g.pick(g.v.countries)...)
	b = append(b, `","x":`...)
	b = g.num(b, 1920)
	b = append(b, `,"y":`...)
	b = g.num(b, 1080)
	b = append(b, `,"value":`...)
	b = strconv.AppendFloat(b, float64(g.r.IntN(100000))/100, 'f', 2, 64)
	b = append(b, `},"tags":["`...)
	b = append(b, g.pick(g.v.words)...)
	b = append(b, `","`...)
	b = append(b, g.pick(g.v.words)...)
	return append(b, "\"]}\n"...)
}

func (g *textGen) csvLine(b []byte) []byte {
	if g.line == 0 {
		b = append(b, "timestamp,host,metric,value,min,max,count\n"...)
	}
	b = g.now().AppendFormat(b, time.RFC3339)
	b = append(b, ",host-"...)
	b = g.num(b, 64)
	b = append(b, ',')
	b = append(b, g.pick(g.v.components)...)
	b = append(b, '.')
	b = append(b, g.pick(g.v.idents)...)
	v := g.r.NormFloat64()*100 + 500
	for _, x := range []float64{v, v - g.r.Float64()*50, v + g.r.Float64()*50} {
		b = append(b, ',')
		b = strconv.AppendFloat(b, x, 'f', 3, 64)
	}
	b = append(b, ',')
	b = g.num(b, 1000)
	return append(b, '\n')
}

func (g *textGen) smallLine(b []byte, fl flavour) []byte {
	switch fl {
	case flavourCode:
		return g.codeLine(b)
	case flavourConfig:
		return g.configLine(b)
	case flavourLog:
		return g.appLog(b)
	case flavourJSON:
		return g.jsonLine(b)
	case flavourBase64:
		var raw [57]byte // 57 bytes encode to one 76-character line
		for i := range raw {
			raw[i] = byte(g.r.Uint32())
		}
		b = base64.StdEncoding.AppendEncode(b, raw[:])
		return append(b, '\n')
	}
	if fl == flavourMarkdown && g.line%12 == 0 {
		b = append(b, "## "...)
		b = g.words(b, 2+g.r.IntN(4))
		b = append(b, "\n\n"...)
	}
	b = g.words(b, 6+g.r.IntN(14))
	return append(b, ".\n"...)
}

func (g *textGen) codeLine(b []byte) []byte {
	b = append(b, strings.Repeat("\t", g.r.IntN(4))...)
	id := func() string { return g.pick(g.v.idents) }
	switch g.r.IntN(6) {
	case 0:
		return fmt.Appendf(b, "if %s != nil {\n", id())
	case 1:
		m := id()
		return fmt.Appendf(b, "%s := %s.%s%s(%s, %d)\n", id(), id(), strings.ToUpper(m[:1]), m[1:], id(), g.r.IntN(4096))
	case 2:
		return fmt.Appendf(b, "return %s, nil\n", id())
	case 3:
		b = append(b, "// "...)
		b = g.words(b, 4+g.r.IntN(8))
		return append(b, '\n')
	case 4:
		return append(b, "}\n"...)
	default:
		m := id()
		return fmt.Appendf(b, "func %s%s%s(%s []byte) error {\n", id(), strings.ToUpper(m[:1]), m[1:], id())
	}
}

func (g *textGen) configLine(b []byte) []byte {
	if g.line%10 == 0 {
		b = fmt.Appendf(b, "[%s]\n", g.pick(g.v.components))
	}
	b = fmt.Appendf(b, "%s_%s = ", g.pick(g.v.idents), g.pick(g.v.idents))
	switch g.r.IntN(3) {
	case 0:
		b = g.num(b, 100000)
	case 1:
		b = strconv.AppendQuote(b, g.pick(g.v.words))
	default:
		b = strconv.AppendBool(b, g.r.IntN(2) == 0)
	}
	return append(b, '\n')
}

// writeText writes exactly size bytes of lines from g to w; the last line is
// cut short where the size ends.
func writeText(w io.Writer, g *textGen, k kind, fl flavour, size int64) error {
	bw := bufio.NewWriterSize(w, MiB)
	var line []byte
	for written := int64(0); written < size; {
		line = g.next(line[:0], k, fl)
		if rest := size - written; int64(len(line)) > rest {
			line = line[:rest]
		}
		if _, err := bw.Write(line); err != nil {
			return err
		}
		written += int64(len(line))
	}
	return bw.Flush()
}
