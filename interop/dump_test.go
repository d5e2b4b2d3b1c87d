package interop_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestDumpInterop compares dump's bytes with restic's: single files, and
// directories as tar and as zip, for a restic- and an hbackup-written
// snapshot.
func TestDumpInterop(t *testing.T) {
	// restic 0.14 knows no linktarget_raw and dumps the target with U+FFFD
	// for invalid UTF-8; hbackup dumps the real bytes, so leave that out.
	m := newMixedRepo(t, true, func(src string) {
		if err := os.Remove(filepath.Join(src, "links", "non-utf8-target")); err != nil {
			t.Fatal(err)
		}
	})
	src := filepath.ToSlash(m.src)
	for _, tc := range [][]string{
		{"latest", src + "/new-dir/big"},
		{"--host", "hr", "latest", src + "/new-file"}, // not in that snapshot
		{"--host", "hr", "latest", src},
		{"latest", src},
		{"latest", "/"},
		{"--archive", "zip", "latest", src},
		{"--archive", "zip", "--host", "hr", "latest", "/"},
	} {
		args := append([]string{"dump"}, tc...)
		want, _, wantCode := m.restic.RunErr(args...)
		got, errb, gotCode := m.hb.runErr(args...)
		if (wantCode == 0) != (gotCode == 0) {
			t.Fatalf("%v: restic exit %d, hbackup exit %d: %s", tc, wantCode, gotCode, errb)
		}
		if !bytes.Equal(want, got) {
			t.Errorf("%v: output differs (restic %d bytes, hbackup %d bytes)", tc, len(want), len(got))
		}
	}
}
