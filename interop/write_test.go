package interop_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
)

// TestHbackupWritesResticReads backs up a tree covering every case with
// hbackup, then has restic check every byte and restore it.
func TestHbackupWritesResticReads(t *testing.T) {
	for _, tc := range []struct {
		version, compression string
	}{
		{"2", "auto"}, {"2", "off"}, {"2", "max"}, {"1", "auto"},
	} {
		t.Run(fmt.Sprintf("v%s-%s", tc.version, tc.compression), func(t *testing.T) {
			base := t.TempDir()
			src := filepath.Join(base, "src")
			info := testutil.MakeTestTree(t, src, testutil.TreeOptions{Seed: 7, Special: true})
			repoDir := filepath.Join(base, "repo")
			restic := testutil.NewRestic(t, repoDir, "geheim")
			hb := newHbackup(repoDir)
			hb.run(t, "init", "--repository-version", tc.version)
			sum := hb.backupJSON(t, "--compression", tc.compression, "--tag", "interop", src)
			if sum["files_new"].(float64) == 0 {
				t.Fatalf("backup stored no files: %v", sum)
			}

			out := restic.Run(t, "check", "--read-data")
			if !strings.Contains(string(out), "no errors were found") {
				t.Fatalf("restic check did not report success:\n%s", out)
			}
			target := filepath.Join(base, "restored")
			restic.Run(t, "restore", "latest", "--target", target)
			compareRestored(t, restic, src, filepath.Join(target, src), testutil.CompareOptions{
				Owner: info.Chown, Xattrs: info.Xattrs,
			})

			// restic and hbackup list the same nodes.
			resticNodes := lsNodes(t, restic.Run(t, "ls", "--json", "latest"))
			hbNodes := lsNodes(t, hb.run(t, "ls", "--json", "latest"))
			if strings.Join(resticNodes, "\n") != strings.Join(hbNodes, "\n") {
				t.Errorf("ls --json differs:\nrestic:\n%s\nhbackup:\n%s", strings.Join(resticNodes, "\n"), strings.Join(hbNodes, "\n"))
			}

			// A second backup with nothing changed adds no data blobs and
			// reads no file again.
			sum2 := hb.backupJSON(t, src)
			if sum2["data_blobs"].(float64) != 0 || sum2["files_new"].(float64) != 0 || sum2["files_changed"].(float64) != 0 {
				t.Errorf("unchanged second backup: %v", sum2)
			}
			restic.Run(t, "check")
		})
	}
}

// lsNodes returns "path type size mode mtime" per node of ls --json.
func lsNodes(t *testing.T, out []byte) []string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var n struct {
			StructType string  `json:"struct_type"`
			Path       string  `json:"path"`
			Type       string  `json:"type"`
			Size       *uint64 `json:"size"`
			Mode       uint32  `json:"mode"`
			UID        uint32  `json:"uid"`
			Mtime      string  `json:"mtime"`
		}
		if err := json.Unmarshal([]byte(l), &n); err != nil {
			t.Fatalf("bad ls line %q: %v", l, err)
		}
		if n.StructType != "node" {
			continue
		}
		size := "-"
		if n.Size != nil && n.Type == "file" {
			size = fmt.Sprint(*n.Size)
		}
		lines = append(lines, fmt.Sprintf("%q %s %s %o %d %s", n.Path, n.Type, size, n.Mode, n.UID, n.Mtime))
	}
	sort.Strings(lines)
	return lines
}
