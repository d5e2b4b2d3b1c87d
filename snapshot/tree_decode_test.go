package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hbackup/hbackup/repo"
)

// checkFastTree compares decodeTreeFast with decodeTreeReflect on data and
// reports whether the fast path handled it. When it does, the reference
// must succeed with an identical result: reflect.DeepEqual (times must
// even share their zone), equal encodings and equal instants.
func checkFastTree(t testing.TB, data []byte) bool {
	t.Helper()
	fast, ok := decodeTreeFast(data)
	ref, err := decodeTreeReflect(data)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("fast path decoded what encoding/json rejects (%v):\n%q", err, data)
	}
	if !reflect.DeepEqual(fast, ref) {
		for i := range min(len(fast.Nodes), len(ref.Nodes)) {
			if !reflect.DeepEqual(fast.Nodes[i], ref.Nodes[i]) {
				t.Fatalf("node %d differs for\n%q\nfast: %#v\nref:  %#v", i, data, fast.Nodes[i], ref.Nodes[i])
			}
		}
		t.Fatalf("trees differ for\n%q\nfast: %#v\nref:  %#v", data, fast, ref)
	}
	for i, n := range fast.Nodes {
		r := ref.Nodes[i]
		for _, p := range [][2]time.Time{{n.ModTime, r.ModTime}, {n.AccessTime, r.AccessTime}, {n.ChangeTime, r.ChangeTime}} {
			if !p[0].Equal(p[1]) || p[0].Location().String() != p[1].Location().String() {
				t.Fatalf("node %d: times %v and %v differ", i, p[0], p[1])
			}
		}
	}
	// Unsorted trees do not encode; compare node by node then.
	for i, n := range fast.Nodes {
		a, errA := json.Marshal(n)
		b, errB := json.Marshal(ref.Nodes[i])
		if (errA == nil) != (errB == nil) || !bytes.Equal(a, b) {
			t.Fatalf("node %d encodes differently: %v %v\n%s\n%s", i, errA, errB, a, b)
		}
	}
	return true
}

// checkDecodeTree checks that DecodeTree as a whole (fast path plus
// fallback) agrees with the reference, errors included.
func checkDecodeTree(t testing.TB, data []byte) {
	t.Helper()
	got, err := DecodeTree(data)
	want, werr := decodeTreeReflect(data)
	if (err == nil) != (werr == nil) {
		t.Fatalf("DecodeTree error %v, reference error %v for\n%q", err, werr, data)
	}
	if err != nil {
		if err.Error() != werr.Error() {
			t.Fatalf("error %q, reference %q", err, werr)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeTree differs from reference for\n%q", data)
	}
}

var randNames = []string{
	"a", "file.txt", "ünïcödé", "日本語", "emoji 😀", `quote"name`, `back\slash`, "tab\tname", "nl\nname",
	"bad\xffname", "\xc3", "\xed\xa0\x80", "a<b>&c", "nb\u00a0sp", "ls\u2028ps\u2029", "nul\x00", "del\x7f",
	"\x01\x1f", "ctrl\r", "'single'", "%s%d", "long-" + strings.Repeat("x", 300), "\ufffd", "\U0010ffff",
}

var randZones = []*time.Location{
	time.UTC, time.Local, time.FixedZone("", 0), time.FixedZone("CET", 3600), time.FixedZone("", 5*3600+1800),
	time.FixedZone("X", -8*3600), time.FixedZone("", 14*3600), time.FixedZone("", -(12*3600 + 45*60)),
	time.FixedZone("odd", 3600+30), // seconds in the offset are lost on encoding
}

func randTime(r *rand.Rand) time.Time {
	switch r.IntN(10) {
	case 0:
		return time.Time{}
	case 1:
		return time.Date(r.IntN(3)*9999/2, time.Month(1+r.IntN(12)), 1+r.IntN(31), 0, 0, 0, 0, time.UTC)
	}
	sec := r.Int64N(5e9) - 1e9
	var nsec int64
	switch r.IntN(4) {
	case 1:
		nsec = r.Int64N(1000) * 1e6
	case 2:
		nsec = r.Int64N(1e6) * 1e3
	case 3:
		nsec = r.Int64N(1e9)
	}
	loc := randZones[r.IntN(len(randZones))]
	if r.IntN(3) == 0 {
		if l, err := time.LoadLocation([]string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"}[r.IntN(4)]); err == nil {
			loc = l
		}
	}
	return time.Unix(sec, nsec).In(loc)
}

func randID(r *rand.Rand) repo.ID {
	var id repo.ID
	for i := range id {
		id[i] = byte(r.Uint32())
	}
	return id
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, r.IntN(n+1))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

var nodeTypes = []NodeType{NodeTypeFile, NodeTypeDir, NodeTypeSymlink, NodeTypeDev, NodeTypeCharDev,
	NodeTypeFifo, NodeTypeSocket, NodeTypeIrregular, "strange"}

func randNode(r *rand.Rand, i int) *Node {
	name := randNames[r.IntN(len(randNames))]
	switch r.IntN(3) {
	case 0:
		name = fmt.Sprintf("%s-%d", name, i)
	case 1:
		name = string(randBytes(r, 12))
	}
	n := &Node{Name: name, Type: nodeTypes[r.IntN(len(nodeTypes))], Mode: os.FileMode(r.Uint32()),
		ModTime: randTime(r), AccessTime: randTime(r), ChangeTime: randTime(r),
		UID: r.Uint32(), GID: r.Uint32() % 3}
	if r.IntN(2) == 0 {
		n.User, n.Group = randNames[r.IntN(len(randNames))], []string{"root", "users", ""}[r.IntN(3)]
	}
	if r.IntN(2) == 0 {
		n.Inode, n.DeviceID, n.Links = r.Uint64(), r.Uint64()>>r.IntN(64), uint64(r.IntN(5))
	}
	switch n.Type {
	case NodeTypeFile:
		n.Size = r.Uint64() >> r.IntN(64)
		n.Content = make([]repo.ID, r.IntN(4))
		for j := range n.Content {
			n.Content[j] = randID(r)
		}
	case NodeTypeDir:
		if r.IntN(4) != 0 {
			id := randID(r)
			n.Subtree = &id
		}
	case NodeTypeSymlink:
		n.LinkTarget = randNames[r.IntN(len(randNames))]
		if r.IntN(2) == 0 {
			n.LinkTarget = string(randBytes(r, 10))
		}
	case NodeTypeDev, NodeTypeCharDev:
		n.Device = r.Uint64() >> r.IntN(64)
	}
	if r.IntN(4) == 0 {
		for range r.IntN(3) {
			v := randBytes(r, 20)
			if r.IntN(4) == 0 {
				v = nil
			}
			n.ExtendedAttributes = append(n.ExtendedAttributes, ExtendedAttribute{Name: randNames[r.IntN(len(randNames))], Value: v})
		}
	}
	if r.IntN(5) == 0 {
		n.GenericAttributes = map[string]json.RawMessage{}
		vals := []string{`1`, `-2.5e3`, `"s<>&\u2028"`, `{"a":[1,true,null],"b":{}}`, `null`, `[]`, `"\ud83d\ude00"`}
		for range r.IntN(3) {
			n.GenericAttributes[randNames[r.IntN(len(randNames))]] = json.RawMessage(vals[r.IntN(len(vals))])
		}
	}
	if r.IntN(8) == 0 {
		n.Error = randNames[r.IntN(len(randNames))]
	}
	return n
}

func randTree(r *rand.Rand) *Tree {
	var tr Tree
	for i := range r.IntN(12) {
		_ = tr.Insert(randNode(r, i)) // duplicate names are skipped
	}
	return &tr
}

// TestDecodeTreeFastRandom: every tree the encoder writes must take the
// fast path and decode exactly as encoding/json decodes it.
func TestDecodeTreeFastRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		data, err := randTree(r).Encode()
		if err != nil {
			t.Fatal(err)
		}
		if !checkFastTree(t, data) {
			t.Fatalf("fast path declined encoder output:\n%q", data)
		}
		checkDecodeTree(t, data)
		// The same with other whitespace, which restic also accepts.
		spaced := bytes.ReplaceAll(data, []byte(`,"`), []byte(",\n\t \""))
		spaced = bytes.ReplaceAll(spaced, []byte(`":`), []byte("\" \r: "))
		if _, err := decodeTreeReflect(spaced); !checkFastTree(t, spaced) && err == nil {
			t.Fatalf("fast path declined whitespace:\n%q", spaced)
		}
	}
}

// TestDecodeTreeFastFixtures decodes the trees real restic wrote.
func TestDecodeTreeFastFixtures(t *testing.T) {
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
		if !checkFastTree(t, data) {
			t.Fatalf("%s: fast path declined", f)
		}
	}
}

// TestDecodeTreeFastCases covers hand-written inputs: which the fast path
// takes, and that DecodeTree agrees with encoding/json on all of them.
func TestDecodeTreeFastCases(t *testing.T) {
	const id = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
	handled := []string{
		`{"nodes":[]}`, `{"nodes":null}`, `{}`, `null`, " \n{ } \r\n", `{"nodes":[{}]}`,
		`{"nodes":[{"name":"a","content":[]}]}`,
		`{"nodes":[{"name":"a","content":null,"subtree":null,"mtime":null,"uid":null,"name2":null}]}`,
		`{"nodes":[{"name":"a\\\\b\\\"c\\x00\\u00e9\\U0001F600\\t"}]}`,
		`{"nodes":[{"name":"\u00e9\ud83d\ude00\/\b\f\r\t"}]}`, // JSON escapes only, no Go quoting
		`{"nodes":[{"name":"a","content":["` + id + `","` + strings.ToUpper(id) + `"],"subtree":"` + id + `"}]}`,
		`{"nodes":[{"type":"dir"},{"type":"file"},{"type":"symlink"},{"type":"x"},{"type":""}]}`,
		`{"nodes":[{"mtime":"2020-02-29T23:59:59.1+14:00","atime":"0000-01-01T00:00:00-00:00","ctime":"9999-12-31T23:59:59.999999999Z"}]}`,
		`{"nodes":[{"mtime":"2020-01-01T00:00:00+00:00","atime":"2020-07-01T00:00:00.000+02:00","ctime":"1970-01-01T00:00:00.123456789-12:59"}]}`,
		`{"nodes":[{"mtime":"2020-01-01T00:00:00.1234567891Z","atime":"2020-01-01T00:00:00+24:00","ctime":"2020-01-01T00:00:00,5Z"}]}`, // via time's own parser
		`{"nodes":[{"linktarget":"x","linktarget_raw":"Li4vdP88"},{"linktarget":"x","linktarget_raw":""},{"linktarget_raw":"Li4v\ndP88"}]}`,
		`{"nodes":[{"extended_attributes":[]},{"extended_attributes":[{"name":"user.a","value":""},{"name":null,"value":null},{"x":1},{}]}]}`,
		`{"nodes":[{"generic_attributes":{}},{"generic_attributes":{"k":{ "a" : "<" },"k":[1, 2],"z":null,"":"\u2028","\u006b\n":1}}]}`,
		`{"nodes":[{"mode":4294967295,"uid":4294967295,"gid":0,"inode":18446744073709551615,"size":0,"links":1,"device":7,"device_id":9}]}`,
		`{"x":[{"y":-0.5e+7,"z":[true,false,null,"\u0041"]}],"nodes":[{"unknown":{"name":"b"},"name":"a"}],"more":1}`,
		`{"nodes":[{"error":"boom \u00e9","user":"u","group":"g"},{"user":"u","group":"g"},{"user":"v","group":""}]}`,
	}
	declined := []string{
		`[]`, `""`, `{"nodes":[null]}`, `{"nodes":[1]}`, `{"nodes":{}}`, `{"Nodes":[]}`, `{"nodes":[],"nodes":null}`,
		`{"nodes":[{"Name":"a"}]}`, `{"nodes":[{"name":"a","name":"b"}]}`, `{"nodes":[{"nam\u0065":"a"}]}`,
		`{"nodes":[{"nameſ":"a"}]}`, `{"nodes":[{"name":"a\"b"}]}`, `{"nodes":[{"name":"\\q"}]}`,
		`{"nodes":[{"name":"` + "\xff" + `"}]}`, `{"nodes":[{"name":"\ud800"}]}`, `{"nodes":[{"name":"\ud800\u0041"}]}`,
		`{"nodes":[{"name":1}]}`, `{"nodes":[{"uid":-1}]}`, `{"nodes":[{"uid":1.0}]}`, `{"nodes":[{"uid":1e2}]}`,
		`{"nodes":[{"uid":4294967296}]}`, `{"nodes":[{"size":18446744073709551616}]}`, `{"nodes":[{"uid":01}]}`,
		`{"nodes":[{"uid":"1"}]}`, `{"nodes":[{"mtime":1}]}`, `{"nodes":[{"mtime":"2020-02-30T00:00:00Z"}]}`,
		`{"nodes":[{"mtime":"2020-01-01t00:00:00z"}]}`,
		`{"nodes":[{"name":"new\nline"}]}`, `{"nodes":[{"content":["` + id[1:] + `"]}]}`,
		`{"nodes":[{"content":[null]}]}`, `{"nodes":[{"content":["\u0035` + id[1:] + `"]}]}`, `{"nodes":[{"content":{}}]}`,
		`{"nodes":[{"subtree":"x"}]}`, `{"nodes":[{"linktarget_raw":"!"}]}`, `{"nodes":[{"linktarget_raw":[1]}]}`,
		`{"nodes":[]} x`, `{"nodes":[]`, `{"nodes":[{"x":tru}]}`, `{"nodes":[{"x":01}]}`, `{"nodes":[{"x":"\x"}]}`,
		"{\"nodes\":[{\"x\":\"\t\"}]}", `{"nodes":[{"x":[1,]}]}`, `{"nodes":[{"x":1,}]}`, `{"nodes":[{"x":-}]}`,
		`{"nodes":[{"generic_attributes":{"\ud800":1}}]}`, `{"nodes":[{"generic_attributes":[]}]}`,
		`{"nodes":[{"extended_attributes":[{"Name":"a"}]}]}`, `{"nodes":[{"extended_attributes":{}}]}`,
		`{"nodes":[{"x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}]}`,
	}
	for _, s := range handled {
		if !checkFastTree(t, []byte(s)) {
			t.Errorf("fast path declined %s", s)
		}
		checkDecodeTree(t, []byte(s))
	}
	for _, s := range declined {
		if _, ok := decodeTreeFast([]byte(s)); ok {
			t.Errorf("fast path took %s", s)
		}
		checkDecodeTree(t, []byte(s))
	}
}

// FuzzDecodeTreeFast: on any input the fast path declines or gives what
// encoding/json gives. (FuzzDecodeTree in fuzz_test.go checks round trips.)
func FuzzDecodeTreeFast(f *testing.F) {
	files, _ := filepath.Glob("testdata/restic-*/tree-*.json")
	for _, name := range append(files, "testdata/golden-tree.json") {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		if data, err := randTree(r).Encode(); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"nodes":[{"name":"a\\\\b","mtime":"2020-02-29T23:59:59.1+14:00","linktarget_raw":"Li4v","generic_attributes":{"k":{ "a" : "<" }},"extended_attributes":[{"name":"n","value":""}],"content":[]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastTree(t, data)
		checkDecodeTree(t, data)
	})
}

// benchDecodeTree is a directory of 100 regular files with 1-3 content
// blobs each and the metadata a Linux backup records.
func benchDecodeTree(b *testing.B, loc *time.Location) []byte {
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
	data, err := tr.Encode()
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkDecodeTree compares encoding/json ("reflect") with DecodeTree
// ("fast"), for times in UTC and with a zone offset.
func BenchmarkDecodeTree(b *testing.B) {
	for _, zone := range []struct {
		name string
		loc  *time.Location
	}{{"utc", time.UTC}, {"offset", time.FixedZone("", 3600)}} {
		data := benchDecodeTree(b, zone.loc)
		for _, dec := range []struct {
			name string
			fn   func([]byte) (*Tree, error)
		}{{"reflect", decodeTreeReflect}, {"fast", DecodeTree}} {
			b.Run(zone.name+"/"+dec.name, func(b *testing.B) {
				if _, ok := decodeTreeFast(data); !ok {
					b.Fatal("fast path declined")
				}
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := dec.fn(data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
