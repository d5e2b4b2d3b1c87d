package filter_test

import (
	"io/fs"
	"testing"
	"time"

	"github.com/hbackup/hbackup/filter"
)

// fakeInfo is a regular file's FileInfo without touching the disk.
type fakeInfo struct{ size int64 }

func (fakeInfo) Name() string       { return "pattern.go" }
func (f fakeInfo) Size() int64      { return f.size }
func (fakeInfo) Mode() fs.FileMode  { return 0o644 }
func (fakeInfo) ModTime() time.Time { return time.Time{} }
func (fakeInfo) IsDir() bool        { return false }
func (fakeInfo) Sys() any           { return nil }

var benchPatterns = []string{
	"*.o", "*.pyc", "*~", ".cache", "node_modules", "__pycache__",
	"/proc", "/sys", "/dev", "/tmp/*", "/var/cache/**",
	"/home/*/.local/share/Trash", "/home/*/Downloads/*.iso",
	"target/**/incremental", "*.[oa]", "core.[0-9]*", ".git/objects",
	"foo/**/bar/**/baz", "/mnt", "*.swp",
}

func BenchmarkExcluded(b *testing.B) {
	e, err := filter.NewExcluder(filter.ExcludeOptions{Excludes: benchPatterns, ExcludeLargerThan: "1G"})
	if err != nil {
		b.Fatal(err)
	}
	const path = "/home/user/projects/hbackup/internal/filter/testdata/pattern.go"
	var fi fs.FileInfo = fakeInfo{size: 4096} // convert once: no allocation per call
	b.ReportAllocs()
	for b.Loop() {
		if e.Excluded(path, fi) {
			b.Fatal("excluded")
		}
	}
}
