package snapshot

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// addFixtures seeds a fuzz target with the real restic files in testdata.
func addFixtures(f *testing.F, pattern string) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	if len(files) == 0 {
		f.Fatalf("no fixtures match %s", pattern)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func FuzzDecodeTree(f *testing.F) {
	addFixtures(f, "restic-*/tree-*.json")
	addFixtures(f, "golden-tree.json")
	for _, s := range []string{
		`{"nodes":null}`, `{}`, `null`, `[]`, `{"nodes":[null]}`, `{"nodes":[{"name":"a\"b"}]}`,
		`{"nodes":[{"name":"b"},{"name":"a"}]}`, `{"nodes":[{"name":"a"},{"name":"a"}]}`,
		`{"nodes":[{"name":"x","generic_attributes":{"k":{ "a" : "<" }},"linktarget_raw":"","extended_attributes":[]}]}`,
		`{"nodes":[{"name":"\\xff","mtime":"0000-01-01T00:00:00+23:59","content":[]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := DecodeTree(data)
		if err != nil {
			return
		}
		enc, err := tr.Encode()
		if verr := tr.Validate(); verr != nil {
			// Restic reads unsorted trees, but nobody may write one.
			if err == nil {
				t.Fatalf("encoded an invalid tree (%v)", verr)
			}
			// Each node on its own must still round-trip.
			for _, n := range tr.Nodes {
				roundTripNode(t, n)
			}
			return
		}
		if err != nil {
			t.Fatalf("decoded tree does not encode: %v", err)
		}
		back, err := DecodeTree(enc)
		if err != nil {
			t.Fatalf("re-decode: %v\n%s", err, enc)
		}
		if len(back.Nodes) != len(tr.Nodes) {
			t.Fatalf("%d nodes, then %d", len(tr.Nodes), len(back.Nodes))
		}
		for i := range tr.Nodes {
			assertNodesEqual(t, tr.Nodes[i], back.Nodes[i])
		}
		enc2, err := back.Encode()
		if err != nil || string(enc2) != string(enc) {
			t.Fatalf("encoding is not stable: %v\n%s\n%s", err, enc, enc2)
		}
	})
}

func roundTripNode(t *testing.T, n *Node) {
	t.Helper()
	data, err := json.Marshal(n)
	if err != nil {
		t.Fatalf("decoded node does not encode: %v", err)
	}
	var back Node
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("re-decode node: %v\n%s", err, data)
	}
	assertNodesEqual(t, n, &back)
}

func FuzzDecodeSnapshot(f *testing.F) {
	addFixtures(f, "restic-*/snapshot-*.json")
	for _, s := range []string{
		`{}`, `null`, `{"time":"2026-01-02T03:04:05.5-07:00","paths":[],"tags":[],"excludes":null}`,
		`{"tree":null,"summary":{}}`, `{"uid":4294967295,"gid":0}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sn, err := DecodeSnapshot(data)
		if err != nil {
			return
		}
		enc, err := sn.Encode()
		if err != nil {
			t.Fatalf("decoded snapshot does not encode: %v", err)
		}
		back, err := DecodeSnapshot(enc)
		if err != nil {
			t.Fatalf("re-decode: %v\n%s", err, enc)
		}
		assertSnapshotsEqual(t, sn, back)
	})
}

// FuzzDecodeNodeName checks both directions of the name quoting: any raw
// name survives encoding byte for byte, and any stored name that decodes
// re-encodes to a name that decodes the same.
func FuzzDecodeNodeName(f *testing.F) {
	for _, s := range []string{
		`quote"name`, `back\slash`, "tab\tname", "bad\xffname", "a<b>&c", "nb\u00a0sp", "ünï",
		`quote\"name`, `back\\slash`, `tab\tname`, `bad\xffname`, `\u00a0`, `\U0001F600`, `\`, `\'`, `\400`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// s as a raw name.
		data, err := json.Marshal(&Node{Name: s})
		if err != nil {
			t.Fatalf("encode %q: %v", s, err)
		}
		var n Node
		if err := json.Unmarshal(data, &n); err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		if n.Name != s {
			t.Fatalf("raw name %q came back as %q", s, n.Name)
		}
		// s as the stored (quoted) form, placed verbatim in the JSON.
		var m Node
		if err := json.Unmarshal([]byte(`{"name":"`+s+`"}`), &m); err != nil {
			return
		}
		roundTripNode(t, &m)
	})
}
