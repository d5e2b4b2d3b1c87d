package snapshot_test

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// benchTreeNodes is the size of the directory the tree benchmarks encode:
// about the largest leaf directory of the benchmark data set.
const benchTreeNodes = 1000

// benchTree is a directory of regular files with the metadata a backup
// on Linux records, each with two content blobs.
func benchTree(b *testing.B) *snapshot.Tree {
	var tr snapshot.Tree
	mtime := time.Date(2024, 1, 1, 12, 0, 0, 123456789, time.UTC)
	for i := range benchTreeNodes {
		n := &snapshot.Node{Name: fmt.Sprintf("file-%05d.log", i), Type: snapshot.NodeTypeFile, Mode: 0o644,
			ModTime: mtime.Add(time.Duration(i) * time.Second), AccessTime: mtime, ChangeTime: mtime,
			UID: 1000, GID: 1000, User: "alice", Group: "alice", Inode: uint64(100000 + i), DeviceID: 2049,
			Size: uint64(4096 * (i + 1)), Links: 1,
			Content: []repo.ID{sha256.Sum256(fmt.Appendf(nil, "a%d", i)), sha256.Sum256(fmt.Appendf(nil, "b%d", i))}}
		if err := tr.Insert(n); err != nil {
			b.Fatal(err)
		}
	}
	return &tr
}

// BenchmarkTreeEncode measures Tree.Encode; bytes are the encoded tree's.
func BenchmarkTreeEncode(b *testing.B) {
	tr := benchTree(b)
	data, err := tr.Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTreeEncoder measures the streaming TreeEncoder the archiver
// can use for a directory, node by node.
func BenchmarkTreeEncoder(b *testing.B) {
	tr := benchTree(b)
	data, err := tr.Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var enc snapshot.TreeEncoder
	for b.Loop() {
		for _, n := range tr.Nodes {
			if err := enc.Add(n); err != nil {
				b.Fatal(err)
			}
		}
		_ = enc.Finish()
	}
}

// BenchmarkTreeDecode measures DecodeTree, as restore, check and a backup
// reading its parent do for every directory.
func BenchmarkTreeDecode(b *testing.B) {
	data, err := benchTree(b).Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := snapshot.DecodeTree(data); err != nil {
			b.Fatal(err)
		}
	}
}
