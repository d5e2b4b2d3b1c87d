package config

import (
	"testing"

	"github.com/hbackup/hbackup/repo/checker"
)

func TestSubsetForRun(t *testing.T) {
	for _, tc := range []struct {
		spec string
		run  int
		want string
	}{
		{"5%", 0, "1/20"}, {"5%", 19, "20/20"}, {"5%", 20, "1/20"}, {"5%", 41, "2/20"},
		{"30%", 3, "4/4"}, {"100%", 7, "1/1"}, {"0.1%", 0, "1/256"},
		{"1/7", 0, "1/7"}, {"3/7", 5, "1/7"}, {"2/2", 1, "1/2"},
		{"500M", 3, "500M"}, {"", 3, ""}, {"150%", 1, "150%"}, {"0/3", 1, "0/3"},
	} {
		got := SubsetForRun(tc.spec, tc.run)
		if got != tc.want {
			t.Errorf("SubsetForRun(%q, %d) = %q, want %q", tc.spec, tc.run, got, tc.want)
		}
		if got != "" {
			if _, err := checker.ParseSubset(got); err != nil && tc.spec != "150%" && tc.spec != "0/3" {
				t.Errorf("%q is not a valid subset: %v", got, err)
			}
		}
	}
	// Over one full cycle every group is read exactly once.
	seen := map[string]bool{}
	for run := range 20 {
		seen[SubsetForRun("5%", run)] = true
	}
	if len(seen) != 20 {
		t.Errorf("a cycle of 20 runs read %d distinct groups", len(seen))
	}
}
