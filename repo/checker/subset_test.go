package checker_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/repo/checker"
)

func TestParseSubset(t *testing.T) {
	for _, s := range []string{"1/1", "2/5", "256/256", "0.5%", "100%", "10%", "500M", "1k", "12345", "2G", "1t", "7b"} {
		if _, err := checker.ParseSubset(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for s, want := range map[string]string{
		"0/2":   "n <= t",
		"3/2":   "n <= t",
		"1/257": "at most 256",
		"1/2/3": "invalid value",
		"0%":    "above 0.0%",
		"101%":  "at most 100.0%",
		"x%":    "invalid value",
		"0":     "must be above 0",
		"5X":    "invalid value",
		"":      "invalid value",
		"-1M":   "must be above 0",
	} {
		_, err := checker.ParseSubset(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one saying %q", s, err, want)
		}
	}
}

func testPacks(n int) map[repo.ID]int64 {
	packs := make(map[repo.ID]int64)
	for i := range n {
		packs[repo.Hash([]byte{byte(i), byte(i >> 8)})] = 1000
	}
	return packs
}

// TestSubsetBuckets: the t groups of n/t cover every pack exactly once,
// each group by the first byte of the pack ID.
func TestSubsetBuckets(t *testing.T) {
	packs := testPacks(1000)
	for _, total := range []int{1, 2, 3, 7, 256} {
		seen := make(map[repo.ID]int)
		for n := 1; n <= total; n++ {
			s, err := checker.ParseSubset(fmt.Sprintf("%d/%d", n, total))
			if err != nil {
				t.Fatal(err)
			}
			sel, err := s.Select(packs)
			if err != nil {
				t.Fatal(err)
			}
			for id := range sel {
				if int(id[0])%total != n-1 {
					t.Errorf("%d/%d selected %v", n, total, id.Str())
				}
				seen[id]++
			}
		}
		if len(seen) != len(packs) {
			t.Errorf("t=%d: %d of %d packs selected", total, len(seen), len(packs))
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("t=%d: %v selected %d times", total, id.Str(), c)
			}
		}
	}
}

func TestSubsetRandom(t *testing.T) {
	packs := testPacks(200) // 200 packs of 1000 bytes
	for spec, want := range map[string]int{
		"10%": 20, "0.1%": 1, "100%": 200, "50000": 50, "1k": 1, "1M": 200, "2500b": 2,
	} {
		s, err := checker.ParseSubset(spec)
		if err != nil {
			t.Fatal(err)
		}
		sel, err := s.Select(packs)
		if err != nil {
			t.Fatal(err)
		}
		if len(sel) != want {
			t.Errorf("%s selected %d packs, want %d", spec, len(sel), want)
		}
		for id := range sel {
			if _, ok := packs[id]; !ok {
				t.Errorf("%s selected unknown pack %v", spec, id.Str())
			}
		}
	}
	s, _ := checker.ParseSubset("1G")
	if _, err := s.Select(map[repo.ID]int64{}); err == nil {
		t.Error("a size subset of an empty repository should fail as restic")
	}
}
