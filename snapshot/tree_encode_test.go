package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hbackup/hbackup/repo"
)

// encodeTreeReflect is the encoder as it was before appendNode: every
// node through json.Marshal. It is the reference the tests compare with.
func encodeTreeReflect(t *Tree) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"nodes":[`)
	for i, n := range t.Nodes {
		if n == nil {
			return nil, errors.New("tree: nil node")
		}
		if i > 0 && n.Name <= t.Nodes[i-1].Name {
			return nil, fmt.Errorf("tree: nodes are not ordered or duplicate: %q after %q", n.Name, t.Nodes[i-1].Name)
		}
		data, err := json.Marshal(n)
		if err != nil {
			return nil, fmt.Errorf("tree: encode node %q: %w", n.Name, err)
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(data)
	}
	buf.WriteString("]}\n")
	return bytes.Clone(buf.Bytes()), nil
}

// checkEncodeNode compares appendNode with json.Marshal on n and reports
// whether appendNode took it. When it does, json.Marshal must succeed
// with the same bytes, and what dst held before must be kept.
func checkEncodeNode(t testing.TB, n *Node) bool {
	t.Helper()
	const prefix = `{"nodes":[`
	got, ok := appendNode([]byte(prefix), n)
	want, err := json.Marshal(n)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("appendNode encoded what json.Marshal rejects (%v): %#v\n%s", err, n, got)
	}
	if !bytes.HasPrefix(got, []byte(prefix)) || !bytes.Equal(got[len(prefix):], want) {
		t.Fatalf("bytes differ for %#v\n got %s\nwant %s", n, got[len(prefix):], want)
	}
	return true
}

// encRunes are runes the string escaping treats specially, plus ordinary
// ones, to build names from.
var encRunes = []string{
	"a", "Z", "0", " ", "/", "~", `"`, `\`, "<", ">", "&", "'", "\b", "\f", "\n", "\r", "\t", "\v", "\a",
	"\x00", "\x01", "\x1f", "\x7f", "\x80", "\xbf", "\xc0", "\xc3", "\xe2\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	"\xff", "é", "\u00a0", "\u00ad", "\u2028", "\u2029", "\u200b", "\ufeff", "\ufffd", "日", "😀", "\U0010ffff",
	"\U000e0001", "\u0301", "\ufdd0",
}

func randEncString(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return randNames[r.IntN(len(randNames))]
	}
	var sb strings.Builder
	for range r.IntN(12) {
		sb.WriteString(encRunes[r.IntN(len(encRunes))])
	}
	return sb.String()
}

// oddTime returns times the fast path must decline or handle at the
// edges: years out of JSON's range, zones it refuses, leap days.
func oddTime(r *rand.Rand) time.Time {
	zones := []*time.Location{time.UTC, time.FixedZone("", 24*3600), time.FixedZone("", -25*3600),
		time.FixedZone("", 100*3600+60), time.FixedZone("", 23*3600+59*60), time.FixedZone("", -59)}
	years := []int{-1, -4, 0, 1, 9999, 10000, 10004, 12345, -100000}
	t := time.Date(years[r.IntN(len(years))], time.Month(1+r.IntN(12)), 1+r.IntN(31),
		r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1e9), time.UTC)
	if r.IntN(4) == 0 {
		t = time.Date(years[r.IntN(len(years))], 2, 29, 23, 59, 59, 0, time.UTC)
	}
	return t.In(zones[r.IntN(len(zones))])
}

// randEncNode is randNode with more of what encoding has to get right.
// It reports whether the node holds something appendNode may decline.
func randEncNode(r *rand.Rand, i int) (*Node, bool) {
	n := randNode(r, i)
	odd := false
	if r.IntN(2) == 0 {
		n.Name = randEncString(r)
	}
	if r.IntN(10) == 0 {
		n.Type = NodeType(randEncString(r))
	}
	if r.IntN(4) == 0 {
		n.Mode = 0
	}
	if r.IntN(8) == 0 {
		n.User, n.Group, n.Error = randEncString(r), randEncString(r), randEncString(r)
	}
	if r.IntN(6) == 0 {
		n.LinkTarget = randEncString(r)
	}
	switch r.IntN(8) {
	case 0:
		n.LinkTargetRaw = []byte{}
	case 1:
		n.LinkTargetRaw = randBytes(r, 8)
	}
	switch r.IntN(10) {
	case 0:
		n.Content = nil
	case 1:
		n.Content = []repo.ID{}
	case 2:
		id := randID(r)
		n.Subtree = &id
	}
	if r.IntN(6) == 0 {
		n.ExtendedAttributes = []ExtendedAttribute{{Name: randEncString(r), Value: []byte{}},
			{Name: "", Value: nil}, {Name: randEncString(r), Value: randBytes(r, 70)}}
	}
	if r.IntN(4) == 0 {
		n.ExtendedAttributes = []ExtendedAttribute{}
	}
	if r.IntN(6) == 0 {
		n.GenericAttributes = map[string]json.RawMessage{}
		plain := []string{`1`, `"s"`, `{"a":[1,true,null],"b":{}}`, `null`, `[]`, `"\u003c"`, `-0.5e+7`}
		for range r.IntN(4) {
			k := randEncString(r)
			switch r.IntN(4) {
			case 0:
				n.GenericAttributes[k] = nil
			case 1:
				vals := []string{``, ` 1`, `{"a": 1}`, `"<"`, `"\u2028"`, "\"\u2028\"", `{`, `tru`, `"a&b"`, "[1,\n2]", `"\xff"`}
				n.GenericAttributes[k] = json.RawMessage(vals[r.IntN(len(vals))])
				odd = true
			default:
				n.GenericAttributes[k] = json.RawMessage(plain[r.IntN(len(plain))])
			}
		}
	}
	if n.GenericAttributes != nil {
		odd = true // randNode's values include ones to decline
	}
	if r.IntN(12) == 0 {
		n.ModTime = oddTime(r)
		odd = true
	}
	if r.IntN(20) == 0 {
		n.ChangeTime = oddTime(r)
		odd = true
	}
	return n, odd
}

// TestEncodeNodeRandom compares appendNode with json.Marshal on random
// nodes; nodes without odd times or generic attributes must not be
// declined.
func TestEncodeNodeRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	count := 50000
	if testing.Short() {
		count = 5000
	}
	declined := 0
	for i := range count {
		n, odd := randEncNode(r, i)
		if !checkEncodeNode(t, n) {
			if !odd {
				t.Fatalf("declined an ordinary node: %#v", n)
			}
			declined++
		}
	}
	t.Logf("%d of %d nodes declined", declined, count)
}

// TestEncodeTreeRandom compares whole trees with the reference encoder,
// both through Tree.Encode and a reused TreeEncoder.
func TestEncodeTreeRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var enc TreeEncoder
	for range 3000 {
		var tr Tree
		for i := range r.IntN(20) {
			n, _ := randEncNode(r, i)
			_ = tr.Insert(n)
		}
		want, werr := encodeTreeReflect(&tr)
		got, err := tr.Encode()
		if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
			t.Fatalf("error %v, reference error %v", err, werr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("tree bytes differ:\n got %s\nwant %s", got, want)
		}
		if err != nil {
			continue
		}
		for _, n := range tr.Nodes {
			if err := enc.Add(n); err != nil {
				t.Fatal(err)
			}
		}
		if got := enc.Finish(); !bytes.Equal(got, want) {
			t.Fatalf("TreeEncoder bytes differ:\n got %s\nwant %s", got, want)
		}
	}
}

// TestEncodeNodeCases pins hand-picked nodes, including every byte as a
// one-byte name and a few as targets and strings.
func TestEncodeNodeCases(t *testing.T) {
	base := func() *Node {
		return &Node{Name: "n", Type: NodeTypeFile, ModTime: time.Unix(1700000000, 5).UTC()}
	}
	for b := range 256 {
		for _, s := range []string{string([]byte{byte(b)}), "x" + string([]byte{byte(b)}) + "\u2028y"} {
			n := base()
			n.Name, n.User, n.LinkTarget, n.Error, n.Type = s, s, s, s, NodeType(s)
			n.ExtendedAttributes = []ExtendedAttribute{{Name: s, Value: []byte(s)}}
			if !checkEncodeNode(t, n) {
				t.Fatalf("declined byte %#x", b)
			}
		}
	}
	for r := rune(0); r <= utf8.MaxRune; r += 1 + r/64 {
		n := base()
		n.Name = "a" + string(r) + "b"
		n.LinkTarget = n.Name
		if !checkEncodeNode(t, n) {
			t.Fatalf("declined rune %U", r)
		}
	}
	// Named zones at historical dates have offsets with seconds (LMT).
	for _, name := range []string{"Local", "UTC", "Europe/Amsterdam", "Asia/Kolkata", "America/St_Johns", "Pacific/Kiritimati"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Logf("zone %s: %v", name, err)
			continue
		}
		for _, y := range []int{0, 1, 1800, 1900, 1937, 1970, 2038, 2100, 9999} {
			n := base()
			n.ModTime = time.Date(y, 7, 1, 12, 30, 0, 100, loc)
			n.AccessTime, n.ChangeTime = n.ModTime.Add(time.Nanosecond), n.ModTime.UTC()
			if !checkEncodeNode(t, n) {
				t.Fatalf("declined %v", n.ModTime)
			}
		}
	}
	id := repo.Hash([]byte("x"))
	ok := []*Node{
		{}, // zero node: zero times, empty name and type
		{Name: "e", Type: NodeTypeFile, Content: []repo.ID{}},
		{Name: "d", Type: NodeTypeDir, Subtree: &id, Content: []repo.ID{id, id}},
		{Name: "l", LinkTarget: "\xff", LinkTargetRaw: []byte{}},
		{Name: "l", LinkTarget: "ok", LinkTargetRaw: []byte("\xff\x00")},
		{Name: "t", ModTime: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", 23*3600+59*60)),
			AccessTime: time.Date(0, 1, 1, 0, 0, 0, 1, time.FixedZone("", -(23*3600+59*60+59))),
			ChangeTime: time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("", 30))},
		{Name: "g", GenericAttributes: map[string]json.RawMessage{"b": nil, "a": json.RawMessage(`{"x":"\u003c"}`), "<&>": json.RawMessage(`7`)}},
		{Name: "x", ExtendedAttributes: []ExtendedAttribute{{}}, UID: ^uint32(0), GID: ^uint32(0), Inode: ^uint64(0),
			Size: ^uint64(0), Links: ^uint64(0), DeviceID: ^uint64(0), Device: ^uint64(0), Mode: ^os.FileMode(0)},
	}
	for i, n := range ok {
		if !checkEncodeNode(t, n) {
			t.Errorf("case %d declined", i)
		}
	}
	declined := []*Node{
		{ModTime: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{AccessTime: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ChangeTime: time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600))},
		{ChangeTime: time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("", -100*3600))},
		{GenericAttributes: map[string]json.RawMessage{"a": json.RawMessage(`{ }`)}},
		{GenericAttributes: map[string]json.RawMessage{"a": json.RawMessage(`"<"`)}},
		{GenericAttributes: map[string]json.RawMessage{"a": json.RawMessage(``)}},
		{GenericAttributes: map[string]json.RawMessage{"a": json.RawMessage(`[1,]`)}},
	}
	for i, n := range declined {
		if checkEncodeNode(t, n) {
			t.Errorf("odd case %d not declined", i)
		}
	}
}

// TestEncodeFixtures re-encodes the trees restic wrote: the bytes must
// equal the reference encoder's. (TestResticTreesRoundTrip compares them
// with the files.)
func TestEncodeFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/restic-*/tree-*.json")
	files = append(files, "testdata/golden-tree.json")
	if len(files) < 7 {
		t.Fatalf("found only %d fixture trees", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := DecodeTree(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range tr.Nodes {
			if !checkEncodeNode(t, n) {
				t.Errorf("%s: node %q declined", f, n.Name)
			}
		}
		got, err := tr.Encode()
		if err != nil {
			t.Fatal(err)
		}
		want, err := encodeTreeReflect(tr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: bytes differ from the reference encoder:\n got %s\nwant %s", f, got, want)
		}
	}
}

// TestTreeEncoderErrors: a failed Add leaves the encoder as it was, both
// for nodes appendNode handles and for the fallback's errors.
func TestTreeEncoderErrors(t *testing.T) {
	a := &Node{Name: "a", Type: NodeTypeFile, Content: []repo.ID{}}
	c := &Node{Name: "c", Type: NodeTypeFifo}
	bad := &Node{Name: "b", ModTime: time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600))}
	clamped := &Node{Name: "b", ModTime: time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC)}
	want, err := encodeTreeReflect(&Tree{Nodes: []*Node{a, clamped, c}})
	if err != nil {
		t.Fatal(err)
	}
	var e TreeEncoder
	for _, step := range []struct {
		n  *Node
		ok bool
	}{{bad, false}, {a, true}, {nil, false}, {a, false}, {bad, false}, {clamped, true}, {bad, false}, {c, true}} {
		if err := e.Add(step.n); (err == nil) != step.ok {
			t.Fatalf("Add(%v): error %v", step.n, err)
		}
	}
	if got := e.Finish(); !bytes.Equal(got, want) {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	if got := e.Finish(); string(got) != "{\"nodes\":[]}\n" {
		t.Fatalf("empty tree after reset: %s", got)
	}
	if _, err := (&Tree{Nodes: []*Node{a, bad}}).Encode(); err == nil {
		t.Fatal("tree with a bad zone encoded")
	}
}

// FuzzEncodeNode builds a node from the inputs: appendNode must decline
// or write exactly what json.Marshal writes.
func FuzzEncodeNode(f *testing.F) {
	f.Add("name", "file", "", []byte(nil), "user.x", []byte("v"), "", []byte(nil), int64(1700000000), int64(123456789), int32(0), uint64(0))
	f.Add("q\"\\\t\xff<&\u00a0é\u2028", "symlink", "../t\xff<", []byte(nil), "", []byte{}, "k", []byte(`{"a":1}`), int64(-62167219200), int64(0), int32(3600), uint64(0xffff))
	f.Add("\b\f\x7f", "dir", "t", []byte{}, "\x00", []byte(nil), "<", []byte(" 1"), int64(253402300799), int64(999999999), int32(-86399), ^uint64(0))
	f.Add("x", "", "", []byte("raw"), "", []byte(nil), "", []byte(""), int64(253402300800), int64(1), int32(86400), uint64(1)<<40)
	f.Fuzz(func(t *testing.T, name, typ, target string, raw []byte, xname string, xval []byte, gkey string, gval []byte, sec, nsec int64, zone int32, bits uint64) {
		loc := time.UTC
		switch bits & 3 {
		case 1:
			loc = time.Local
		case 2:
			loc = time.FixedZone("", int(zone))
		}
		tm := time.Unix(sec, nsec).In(loc)
		n := &Node{Name: name, Type: NodeType(typ), Mode: os.FileMode(bits >> 8), ModTime: tm,
			AccessTime: tm.Add(time.Duration(bits>>40) * time.Millisecond), UID: uint32(bits >> 4), GID: uint32(sec),
			User: xname, Group: typ, Inode: bits >> 3, DeviceID: uint64(nsec), Size: uint64(sec), Links: bits & 7,
			LinkTarget: target, LinkTargetRaw: raw, Device: bits >> 20, Error: gkey}
		if bits&4 != 0 {
			n.ExtendedAttributes = []ExtendedAttribute{{Name: xname, Value: xval}, {Name: name}}
		}
		if bits&8 != 0 {
			n.GenericAttributes = map[string]json.RawMessage{gkey: gval, name: nil}
		}
		if bits&16 != 0 {
			n.Content = make([]repo.ID, bits>>61)
			if len(n.Content) > 0 {
				n.Content[0] = sha256.Sum256(raw)
			}
		}
		if bits&32 != 0 {
			id := repo.ID(sha256.Sum256(xval))
			n.Subtree = &id
		}
		checkEncodeNode(t, n)
	})
}

// benchEncodeTree is a directory of 100 regular files with 1-3 content
// blobs each and the metadata a Linux backup records.
func benchEncodeTree(b *testing.B, loc *time.Location) *Tree {
	var tr Tree
	for i := range 100 {
		mtime := time.Unix(1700000000+int64(i)*3600, int64(i)*12345678).In(loc)
		n := &Node{Name: fmt.Sprintf("document-%03d.txt", i), Type: NodeTypeFile, Mode: 0o644,
			ModTime: mtime, AccessTime: mtime, ChangeTime: mtime.Add(time.Hour),
			UID: 1000, GID: 1000, User: "alice", Group: "alice", Inode: uint64(4000000 + i), DeviceID: 65024,
			Size: uint64(1000 * (i + 1)), Links: 1}
		for j := range 1 + i%3 {
			n.Content = append(n.Content, sha256.Sum256(fmt.Appendf(nil, "%d/%d", i, j)))
		}
		if err := tr.Insert(n); err != nil {
			b.Fatal(err)
		}
	}
	return &tr
}

// BenchmarkEncodeTree compares the json.Marshal encoder ("reflect") with
// Tree.Encode ("fast") and a reused TreeEncoder ("encoder").
func BenchmarkEncodeTree(b *testing.B) {
	for _, zone := range []struct {
		name string
		loc  *time.Location
	}{{"utc", time.UTC}, {"offset", time.FixedZone("", 3600)}} {
		tr := benchEncodeTree(b, zone.loc)
		want, err := encodeTreeReflect(tr)
		if err != nil {
			b.Fatal(err)
		}
		var enc TreeEncoder
		for _, e := range []struct {
			name string
			fn   func(*Tree) ([]byte, error)
		}{{"reflect", encodeTreeReflect}, {"fast", (*Tree).Encode}, {"encoder", func(t *Tree) ([]byte, error) {
			for _, n := range t.Nodes {
				if err := enc.Add(n); err != nil {
					return nil, err
				}
			}
			return enc.Finish(), nil
		}}} {
			b.Run(zone.name+"/"+e.name, func(b *testing.B) {
				if got, err := e.fn(tr); err != nil || !bytes.Equal(got, want) {
					b.Fatalf("output differs from the reference (%v)", err)
				}
				b.SetBytes(int64(len(want)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := e.fn(tr); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
