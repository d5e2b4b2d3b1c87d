package snapshot

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hbackup/hbackup/repo"
)

func mustID(t testing.TB, s string) repo.ID {
	t.Helper()
	id, err := repo.ParseID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func idPtr(id repo.ID) *repo.ID { return &id }

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// normNode returns a copy with times made comparable by reflect.DeepEqual
// (UTC), after checking the zone offsets, which encoding keeps, match.
func normNode(t testing.TB, a, b *Node) (Node, Node) {
	t.Helper()
	x, y := *a, *b
	for _, p := range [][2]*time.Time{{&x.ModTime, &y.ModTime}, {&x.AccessTime, &y.AccessTime}, {&x.ChangeTime, &y.ChangeTime}} {
		normTime(t, p[0], p[1])
	}
	return x, y
}

func normTime(t testing.TB, a, b *time.Time) {
	t.Helper()
	_, oa := a.Zone()
	_, ob := b.Zone()
	if oa != ob || !a.Equal(*b) {
		t.Fatalf("times differ: %v vs %v", *a, *b)
	}
	*a, *b = a.UTC(), b.UTC()
}

func assertNodesEqual(t testing.TB, a, b *Node) {
	t.Helper()
	x, y := normNode(t, a, b)
	if !reflect.DeepEqual(x, y) {
		t.Fatalf("nodes differ:\n%#v\n%#v", x, y)
	}
}

// The node lines of the brief (§10.2), as restic 0.14 and 0.19 write them,
// with the elided parts filled in and the IDs made real.
func TestNodeGoldenBytes(t *testing.T) {
	tm := time.Date(2026, 11, 22, 9, 15, 49, 243385194, time.UTC)
	const ts = `"mtime":"2026-11-22T09:15:49.243385194Z","atime":"2026-11-22T09:15:49.243385194Z","ctime":"2026-11-22T09:15:49.243385194Z"`
	base := func(name string, typ NodeType, mode os.FileMode, inode uint64) Node {
		return Node{Name: name, Type: typ, Mode: mode, ModTime: tm, AccessTime: tm, ChangeTime: tm,
			User: "root", Group: "root", Inode: inode, DeviceID: 65024}
	}
	content := mustID(t, "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447")
	subtree := repo.Hash([]byte("sub"))

	small := base("small.txt", NodeTypeFile, 0o644, 10002763)
	small.Size, small.Links, small.Content = 12, 1, []repo.ID{content}
	empty := base("empty.txt", NodeTypeFile, 0o644, 10002764)
	empty.Links, empty.Content = 1, []repo.ID{}
	sub := base("sub", NodeTypeDir, os.ModeDir|0o755, 10002765)
	sub.Subtree = &subtree
	link := base("link", NodeTypeSymlink, os.ModeSymlink|0o777, 10002766)
	link.Links, link.LinkTarget = 1, "small.txt"
	fifo := base("fifo", NodeTypeFifo, os.ModeNamedPipe|0o644, 10002767)

	tests := []struct {
		node Node
		want string
	}{
		{small, `{"name":"small.txt","type":"file","mode":420,` + ts + `,"uid":0,"gid":0,"user":"root","group":"root","inode":10002763,"device_id":65024,"size":12,"links":1,"content":["a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"]}`},
		{empty, `{"name":"empty.txt","type":"file","mode":420,` + ts + `,"uid":0,"gid":0,"user":"root","group":"root","inode":10002764,"device_id":65024,"links":1,"content":[]}`},
		{sub, `{"name":"sub","type":"dir","mode":2147484141,` + ts + `,"uid":0,"gid":0,"user":"root","group":"root","inode":10002765,"device_id":65024,"content":null,"subtree":"` + subtree.String() + `"}`},
		{link, `{"name":"link","type":"symlink","mode":134218239,` + ts + `,"uid":0,"gid":0,"user":"root","group":"root","inode":10002766,"device_id":65024,"links":1,"linktarget":"small.txt","content":null}`},
		{fifo, `{"name":"fifo","type":"fifo","mode":33554852,` + ts + `,"uid":0,"gid":0,"user":"root","group":"root","inode":10002767,"device_id":65024,"content":null}`},
	}
	for _, tc := range tests {
		t.Run(tc.node.Name, func(t *testing.T) {
			if got := mustJSON(t, &tc.node); got != tc.want {
				t.Fatalf("encoding:\n got %s\nwant %s", got, tc.want)
			}
			// json.Marshal of the value (not the pointer) must agree.
			if got := mustJSON(t, tc.node); got != tc.want {
				t.Fatalf("value encoding differs: %s", got)
			}
			var back Node
			if err := json.Unmarshal([]byte(tc.want), &back); err != nil {
				t.Fatal(err)
			}
			assertNodesEqual(t, &tc.node, &back)
		})
	}
}

// Every optional field, in restic's key order.
func TestNodeAllFieldsOrder(t *testing.T) {
	tm := time.Date(2001, 2, 3, 4, 5, 6, 7, time.FixedZone("", 3600))
	sub := repo.Hash([]byte("x"))
	n := Node{
		Name: "n", Type: NodeTypeCharDev, Mode: os.ModeDevice | os.ModeCharDevice | 0o600,
		ModTime: tm, AccessTime: tm.Add(time.Second), ChangeTime: tm.Add(2 * time.Second),
		UID: 1, GID: 2, User: "u", Group: "g", Inode: 3, DeviceID: 4, Size: 5, Links: 6,
		LinkTarget: "t\xff", LinkTargetRaw: []byte("t\xff"),
		ExtendedAttributes: []ExtendedAttribute{{Name: "user.b", Value: []byte("v")}, {Name: "user.a", Value: []byte{}}},
		GenericAttributes:  map[string]json.RawMessage{"z": json.RawMessage(`1`), "a": json.RawMessage(`{"x":"<"}`)},
		Device:             7, Content: []repo.ID{sub}, Subtree: &sub, Error: "e",
	}
	want := `{"name":"n","type":"chardev","mode":69206400,` +
		`"mtime":"2001-02-03T04:05:06.000000007+01:00","atime":"2001-02-03T04:05:07.000000007+01:00","ctime":"2001-02-03T04:05:08.000000007+01:00",` +
		`"uid":1,"gid":2,"user":"u","group":"g","inode":3,"device_id":4,"size":5,"links":6,` +
		`"linktarget":"t\ufffd","linktarget_raw":"dP8=",` +
		`"extended_attributes":[{"name":"user.b","value":"dg=="},{"name":"user.a","value":""}],` +
		`"generic_attributes":{"a":{"x":"\u003c"},"z":1},"device":7,` +
		`"content":["` + sub.String() + `"],"subtree":"` + sub.String() + `","error":"e"}`
	if got := mustJSON(t, n); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	var back Node
	if err := json.Unmarshal([]byte(want), &back); err != nil {
		t.Fatal(err)
	}
	n.GenericAttributes["a"] = json.RawMessage(`{"x":"\u003c"}`) // decoded values are kept as encoded
	assertNodesEqual(t, &n, &back)
}

// Name quoting (§10.3), including the rows verified against restic 0.14.
func TestNodeNameQuoting(t *testing.T) {
	tests := []struct{ raw, stored string }{
		{`quote"name`, `"quote\\\"name"`},
		{`back\slash`, `"back\\\\slash"`},
		{"tab\tname", `"tab\\tname"`},
		{"bad\xffname", `"bad\\xffname"`},
		{"a<b>&c", `"a\u003cb\u003e\u0026c"`},
		{"nb\u00a0sp", `"nb\\u00a0sp"`},
		{"ünï", `"ünï"`},
		{"new\nline", `"new\\nline"`},
		{"nul\x00", `"nul\\x00"`},
		{`\n literally`, `"\\\\n literally"`},
		{"plain", `"plain"`},
	}
	for _, tc := range tests {
		n := Node{Name: tc.raw, Type: NodeTypeFile, Content: []repo.ID{}}
		got := mustJSON(t, n)
		prefix := `{"name":` + tc.stored + `,"type":"file",`
		if !strings.HasPrefix(got, prefix) {
			t.Errorf("name %q: got %s, want prefix %s", tc.raw, got, prefix)
			continue
		}
		var back Node
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Fatalf("name %q: %v", tc.raw, err)
		}
		if back.Name != tc.raw {
			t.Errorf("round trip of %q gave %q", tc.raw, back.Name)
		}
	}
}

func TestNodeNameInvalidQuoting(t *testing.T) {
	for _, in := range []string{
		`{"name":"a\"b","type":"file"}`, // raw quote: restic fails with Unquote: invalid syntax
		`{"name":"trailing\\","type":"file"}`,
		`{"name":"new\nline","type":"file"}`,
		`{"name":"\\q","type":"file"}`,
	} {
		var n Node
		err := json.Unmarshal([]byte(in), &n)
		if err == nil || !strings.Contains(err.Error(), "quoted") {
			t.Errorf("%s: want a quoting error, got %v", in, err)
		}
	}
}

// Mode values of §10.4 (Go's bit layout).
func TestNodeModeEncoding(t *testing.T) {
	tests := []struct {
		mode os.FileMode
		want uint32
	}{
		{os.ModeDir | 0o755, 2147484141},
		{os.ModeDir | os.ModeSticky | 0o777, 2148532735}, // /tmp
		{os.ModeSymlink | 0o777, 134218239},
		{os.ModeNamedPipe | 0o644, 33554852},
		{0o644, 420},
		{os.ModeDir | os.ModeSetgid | os.ModeSticky | 0o755, 2152727021}, // seen from restic 0.14
		{os.ModeSetuid | 0o755, 1<<23 | 0o755},
	}
	for _, tc := range tests {
		got := mustJSON(t, Node{Mode: tc.mode})
		if want := `"mode":` + jsonUint(tc.want) + `,`; !strings.Contains(got, want) {
			t.Errorf("mode %v: got %s, want %s", tc.mode, got, want)
		}
	}
	if got := mustJSON(t, Node{}); strings.Contains(got, `"mode"`) {
		t.Errorf("zero mode must be omitted: %s", got)
	}
}

func jsonUint(v uint32) string { b, _ := json.Marshal(v); return string(b) }

func TestNodeClampsYears(t *testing.T) {
	n := Node{
		ModTime:    time.Date(12345, 6, 7, 8, 9, 10, 0, time.UTC),
		AccessTime: time.Date(-5, 6, 7, 8, 9, 10, 0, time.UTC),
		ChangeTime: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	got := mustJSON(t, n)
	for _, want := range []string{`"mtime":"9999-06-07T08:09:10Z"`, `"atime":"0000-06-07T08:09:10Z"`, `"ctime":"2000-01-01T00:00:00Z"`} {
		if !strings.Contains(got, want) {
			t.Errorf("%s lacks %s", got, want)
		}
	}
	if n.ModTime.Year() != 12345 {
		t.Error("encoding changed the node")
	}
}

func TestNodeLinkTargetRaw(t *testing.T) {
	// As restic 0.19.1 writes a symlink to "tgt\xff" (seen in the fixture).
	n := Node{Name: "badlink", Type: NodeTypeSymlink, LinkTarget: "tgt\xff"}
	got := mustJSON(t, n)
	if want := `"linktarget":"tgt\ufffd","linktarget_raw":"dGd0/w==","content":null`; !strings.Contains(got, want) {
		t.Fatalf("got %s, want %s", got, want)
	}
	var back Node
	if err := json.Unmarshal([]byte(got), &back); err != nil {
		t.Fatal(err)
	}
	if back.LinkTarget != "tgt\xff" || back.Target() != "tgt\xff" {
		t.Fatalf("target %q / %q", back.LinkTarget, back.Target())
	}
	// restic 0.14 wrote only the lossy form; that is all we can get.
	var old Node
	if err := json.Unmarshal([]byte(`{"name":"l","type":"symlink","linktarget":"tgt\ufffd"}`), &old); err != nil {
		t.Fatal(err)
	}
	if old.Target() != "tgt\ufffd" || old.LinkTargetRaw != nil {
		t.Fatalf("0.14 target %q raw %q", old.Target(), old.LinkTargetRaw)
	}
	// A valid target gets no raw field.
	if got := mustJSON(t, Node{LinkTarget: "ok"}); strings.Contains(got, "linktarget_raw") {
		t.Fatalf("unexpected raw target: %s", got)
	}
}

func TestNodeDecodeLenient(t *testing.T) {
	in := `{"type":"file","unknown":[1,{"x":2}],"name":"f","content":[],"generic_attributes":{ "k" : [ 1, 2 ] }}`
	var n Node
	if err := json.Unmarshal([]byte(in), &n); err != nil {
		t.Fatal(err)
	}
	if n.Name != "f" || n.Content == nil || len(n.Content) != 0 {
		t.Fatalf("decoded %#v", n)
	}
	if got := string(n.GenericAttributes["k"]); got != "[1,2]" {
		t.Fatalf("generic attribute kept as %q", got)
	}
	for _, bad := range []string{`{"name":"f","mode":-1}`, `{"name":"f","uid":1.5}`, `{"name":"f","content":["zz"]}`, `[]`} {
		if err := json.Unmarshal([]byte(bad), &n); err == nil {
			t.Errorf("%s: decoded without error", bad)
		}
	}
}
