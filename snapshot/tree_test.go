package snapshot

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hbackup/hbackup/repo"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

const emptyTreeID = "ac08ce34ba4f8123618661bef2425f7028ffb9ac740578a3ee88684d2523fee8"

func TestEmptyTree(t *testing.T) {
	for _, tr := range []*Tree{{}, {Nodes: []*Node{}}} {
		data, err := tr.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != "{\"nodes\":[]}\n" {
			t.Fatalf("got %q", data)
		}
		if id := repo.Hash(data).String(); id != emptyTreeID {
			t.Fatalf("empty tree ID %s", id)
		}
	}
	var e TreeEncoder
	if got := string(e.Finish()); got != "{\"nodes\":[]}\n" {
		t.Fatalf("encoder gave %q", got)
	}
}

// Trees written by real restic (see testdata/README.md) must decode and
// re-encode to the same bytes, so our tree IDs equal restic's.
func TestResticTreesRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/restic-*/tree-*.json")
	if len(files) < 6 {
		t.Fatalf("found only %d fixture trees", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "tree-"), ".json")
		if got := repo.Hash(data).String(); got != id {
			t.Fatalf("%s: hash %s (fixture damaged?)", f, got)
		}
		tr, err := DecodeTree(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := tr.Validate(); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out, err := tr.Encode()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		want := data
		if strings.Contains(f, "restic-0.14.0") {
			// 0.14 wrote a non-UTF-8 link target as the escape \ufffd and
			// dropped the real bytes; decoding yields a real U+FFFD, which
			// encoding/json, restic's included, writes unescaped.
			want = bytes.ReplaceAll(data, []byte(`"tgt\ufffd"`), []byte("\"tgt\uFFFD\""))
		}
		if !bytes.Equal(out, want) {
			t.Fatalf("%s: re-encoding differs:\n got %s\nwant %s", f, out, want)
		}
	}
}

// What the fixture trees hold once decoded: raw names and link targets.
func TestResticTreeContents(t *testing.T) {
	load := func(name string) *Tree {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := DecodeTree(data)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	v14 := load("restic-0.14.0/tree-2b198c3b62cf75bf88ba5023c9cbae7f548a4f81771b6477d03bbfe55ddf8ecc.json")
	for _, name := range []string{`quote"name`, `back\slash`, "tab\tname", "bad\xffname", "a<b>&c", "nb\u00a0sp", "ünï", "empty.txt", "sgdir"} {
		if v14.Find(name) == nil {
			t.Errorf("0.14 tree lacks %q", name)
		}
	}
	if n := v14.Find("badlink"); n == nil || n.Target() != "tgt\ufffd" {
		t.Errorf("0.14 badlink: %+v", n)
	}
	if n := v14.Find("sgdir"); n == nil || n.Mode != os.ModeDir|os.ModeSetgid|os.ModeSticky|0o755 {
		t.Errorf("0.14 sgdir: %+v", n)
	}
	if n := v14.Find("empty.txt"); n == nil || n.Content == nil || len(n.Content) != 0 || n.Size != 0 {
		t.Errorf("0.14 empty.txt: %+v", n)
	}

	v19 := load("restic-0.19.1/tree-b9295d7f7e94d0eddaed7b986f7a0d3f04798526e7746185ac14860bbe5be20a.json")
	if n := v19.Find("badlink"); n == nil || n.Target() != "tgt\xff" {
		t.Errorf("0.19 badlink: %+v", n)
	}
	n := v19.Find("hello.txt")
	if n == nil || len(n.ExtendedAttributes) != 1 || n.ExtendedAttributes[0].Name != "user.note" ||
		string(n.ExtendedAttributes[0].Value) != "a note" || n.Links != 2 {
		t.Fatalf("0.19 hello.txt: %+v", n)
	}
	if want := time.Date(2020, 2, 2, 2, 2, 2, 123456789, time.UTC); !n.ModTime.Equal(want) || !n.AccessTime.Equal(want) {
		t.Errorf("0.19 hello.txt times %v %v", n.ModTime, n.AccessTime)
	}
	if v19.Find("name\twith\ttabs") == nil || v19.Find(`quote"and\back`) == nil {
		t.Error("0.19 tree lacks the quoted names")
	}
}

func TestTreeOrderByRawBytes(t *testing.T) {
	var tr Tree
	for _, name := range []string{"\xff", "a", "B", "ab", "a\x00"} {
		if err := tr.Insert(&Node{Name: name, Type: NodeTypeFile, Content: []repo.ID{}}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, n := range tr.Nodes {
		got = append(got, n.Name)
	}
	want := []string{"B", "a", "a\x00", "ab", "\xff"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("order %q, want %q", got, want)
	}
	for _, name := range want {
		if n := tr.Find(name); n == nil || n.Name != name {
			t.Errorf("Find(%q) = %v", name, n)
		}
	}
	if tr.Find("b") != nil || tr.Find("") != nil {
		t.Error("Find of a missing name returned a node")
	}
	data, err := tr.Encode()
	if err != nil {
		t.Fatal(err)
	}
	// Sorting is on raw names, while the JSON holds quoted ones.
	if !bytes.Contains(data, []byte(`{"name":"B"`)) || bytes.Index(data, []byte(`"name":"a\\x00"`)) > bytes.Index(data, []byte(`"name":"\\xff"`)) {
		t.Fatalf("encoded %s", data)
	}
}

func TestTreeRejectsDuplicatesAndDisorder(t *testing.T) {
	var tr Tree
	if err := tr.Insert(&Node{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := tr.Insert(&Node{Name: "a"}); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("duplicate insert: %v", err)
	}
	if err := tr.Insert(nil); err == nil {
		t.Fatal("nil insert accepted")
	}
	for _, nodes := range [][]*Node{
		{{Name: "b"}, {Name: "a"}},
		{{Name: "a"}, {Name: "a"}},
		{{Name: "a"}, nil},
	} {
		bad := Tree{Nodes: nodes}
		if _, err := bad.Encode(); err == nil {
			t.Errorf("encoded bad tree %v", nodes)
		}
		if err := bad.Validate(); err == nil {
			t.Errorf("validated bad tree %v", nodes)
		}
	}
	var e TreeEncoder
	if err := e.Add(&Node{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Add(&Node{Name: "B"}); err == nil || !strings.Contains(err.Error(), "not ordered or duplicate") {
		t.Fatalf("out-of-order add: %v", err)
	}
	// The failed Add left nothing behind.
	if got := string(e.Finish()); strings.Count(got, `"name"`) != 1 {
		t.Fatalf("encoder output %s", got)
	}
}

func TestDecodeTreeLenient(t *testing.T) {
	node := `{"name":"x","type":"file","content":[]}`
	for in, want := range map[string]int{
		"{\"nodes\":[]}\n":    0,
		`{"nodes":null}`:      0, // 0.14 reads it; 0.19 refuses it
		`{}`:                  0,
		`null`:                0,
		` { "nodes" : [ ] } `: 0,
		`{"a":1,"nodes":[` + node + `],"b":{"c":[]}}`:                                                          1,
		`{"nodes":[{"content":[],"type":"file","name":"y","mtime":"2020-01-01T00:00:00+05:30"},` + node + `]}`: 2,
	} {
		tr, err := DecodeTree([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if len(tr.Nodes) != want {
			t.Errorf("%s: %d nodes, want %d", in, len(tr.Nodes), want)
		}
	}
	for _, in := range []string{``, `[]`, `{"nodes":{}}`, `{"nodes":[null]}`, `{"nodes":[1]}`, `{"nodes":[{"name":"a\"b"}]}`, `{"nodes":[]} x`, `{"nodes":[`} {
		if _, err := DecodeTree([]byte(in)); err == nil {
			t.Errorf("%q decoded without error", in)
		}
	}
}

// goldenTree holds one node of each kind plus awkward names.
func goldenTree(t testing.TB) *Tree {
	t.Helper()
	tm := time.Date(2026, 11, 22, 9, 15, 49, 243385194, time.UTC)
	mk := func(name string, typ NodeType, mode os.FileMode) *Node {
		return &Node{Name: name, Type: typ, Mode: mode, ModTime: tm, AccessTime: tm, ChangeTime: tm.Add(time.Hour),
			UID: 1000, GID: 100, User: "alice", Group: "users", Inode: 42, DeviceID: 65024}
	}
	file := mk("file.txt", NodeTypeFile, 0o640)
	file.Size, file.Links = 12, 2
	file.Content = []repo.ID{repo.Hash([]byte("hello world\n")), repo.Hash([]byte("more"))}
	file.ExtendedAttributes = []ExtendedAttribute{{Name: "user.note", Value: []byte("a note")}}
	empty := mk("empty", NodeTypeFile, 0o644|os.ModeSetuid)
	empty.Links, empty.Content = 1, []repo.ID{}
	dir := mk("dir", NodeTypeDir, os.ModeDir|os.ModeSetgid|os.ModeSticky|0o775)
	dir.Subtree = idPtr(mustID(t, emptyTreeID))
	link := mk("bad link", NodeTypeSymlink, os.ModeSymlink|0o777)
	link.Links, link.LinkTarget = 1, "../t\xff<"
	fifo := mk("fifo", NodeTypeFifo, os.ModeNamedPipe|0o600)
	dev := mk("null", NodeTypeCharDev, os.ModeDevice|os.ModeCharDevice|0o666)
	dev.Links, dev.Device = 1, 259
	blk := mk("sda", NodeTypeDev, os.ModeDevice|0o660)
	blk.Links, blk.Device = 1, 2048
	odd := mk("q\"\\\t\xff<&\u00a0é", NodeTypeFile, 0o600)
	odd.Links, odd.Content = 1, []repo.ID{}
	var tr Tree
	for _, n := range []*Node{file, empty, dir, link, fifo, dev, blk, odd} {
		if err := tr.Insert(n); err != nil {
			t.Fatal(err)
		}
	}
	return &tr
}

// The golden file pins the exact bytes; run with -update to rewrite it
// after a deliberate change.
func TestGoldenTree(t *testing.T) {
	data, err := goldenTree(t).Encode()
	if err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/golden-tree.json"
	if *update {
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("tree bytes differ from %s:\n got %s\nwant %s", golden, data, want)
	}
	back, err := DecodeTree(want)
	if err != nil {
		t.Fatal(err)
	}
	orig := goldenTree(t)
	if len(back.Nodes) != len(orig.Nodes) {
		t.Fatalf("%d nodes back", len(back.Nodes))
	}
	for i := range orig.Nodes {
		if orig.Nodes[i].Type == NodeTypeSymlink {
			orig.Nodes[i].LinkTargetRaw = []byte(orig.Nodes[i].LinkTarget) // filled in by encoding
		}
		assertNodesEqual(t, orig.Nodes[i], back.Nodes[i])
	}
}
