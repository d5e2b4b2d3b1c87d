package interop_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestFindInterop compares find's output, text and JSON, with restic's
// for name patterns, blobs, trees and packs. restic visits snapshots in
// the backend's listing order, so results are compared per snapshot.
func TestFindInterop(t *testing.T) {
	m := newMixedRepo(t, true)
	cases := [][]string{
		{"--json", "*.txt"}, {"--json", "links"}, {"--json", "-i", "*READ*"}, {"--json", "--host", "hr", "new-*"},
		{"-l", "links", "special"}, {"dirs/*/file*"}, {"--json", "nomatch"}, {"--json", "-s", "latest", "*"},
	}
	for _, line := range strings.Split(strings.TrimSpace(string(m.restic.Run(t, "list", "blobs"))), "\n")[:6] {
		typ, id, _ := strings.Cut(line, " ")
		flag := "--blob"
		if typ == "tree" {
			flag = "--tree"
		}
		cases = append(cases, []string{flag, id}, []string{"--json", flag, id})
	}
	for _, p := range strings.Fields(string(m.restic.Run(t, "list", "packs"))) {
		cases = append(cases, []string{"--json", "--pack", p})
	}
	for _, tc := range cases {
		args := append([]string{"find"}, tc...)
		want := normalizeFind(t, tc, m.restic.Run(t, args...))
		got := normalizeFind(t, tc, m.hb.run(t, args...))
		if !slices.Equal(want, got) {
			t.Errorf("find %v:\nrestic:\n%s\nhbackup:\n%s", tc, strings.Join(want, "\n"), strings.Join(got, "\n"))
		}
	}
}

// normalizeFind splits find's output into per-snapshot (or per-hit)
// pieces and sorts them.
func normalizeFind(t *testing.T, args []string, out []byte) []string {
	t.Helper()
	var parts []string
	if slices.Contains(args, "--json") {
		var list []json.RawMessage
		if err := json.Unmarshal(out, &list); err != nil {
			t.Fatalf("find %v: %v\n%s", args, err, out)
		}
		for _, e := range list {
			parts = append(parts, string(e))
		}
	} else {
		sep := "\n\n"
		if slices.Contains(args, "--blob") || slices.Contains(args, "--tree") {
			sep = "\nFound "
		}
		parts = strings.Split(strings.TrimSpace(string(out)), sep)
		for i, p := range parts {
			parts[i] = strings.TrimPrefix(p, "Found ")
		}
	}
	slices.Sort(parts)
	return parts
}
