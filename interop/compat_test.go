package interop_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// storesRawLinkTargets reports whether this restic keeps symlink targets
// that are not UTF-8 (linktarget_raw, restic 0.16+). Older restic stores
// and restores them with U+FFFD in place of invalid bytes.
func storesRawLinkTargets(t *testing.T, r *testutil.Restic) bool {
	var major, minor int
	fmt.Sscanf(r.Version(t), "%d.%d", &major, &minor)
	return major > 0 || minor >= 16
}

// compareRestored compares trees like testutil.CompareTrees, but accepts
// the lossy non-UTF-8 symlink targets that old restic produces.
func compareRestored(t *testing.T, r *testutil.Restic, want, got string, opt testutil.CompareOptions) {
	t.Helper()
	lossyOK := !storesRawLinkTargets(t, r)
	var bad []string
	for _, d := range testutil.Diff(want, got, opt) {
		if lossyOK && strings.Contains(d, "symlink target") && (strings.Contains(d, `\xff`) || strings.Contains(d, "\ufffd")) {
			continue
		}
		bad = append(bad, d)
	}
	if len(bad) > 0 {
		t.Errorf("trees differ (want %s, got %s):\n%s", want, got, strings.Join(bad, "\n"))
	}
}

// diffTrees lists the nodes that differ between two trees, recursing into
// directories whose subtree IDs differ, as "path: a-json | b-json".
func diffTrees(ctx context.Context, r *repo.Repository, a, b repo.ID, prefix string) ([]string, error) {
	if a == b {
		return nil, nil
	}
	ta, err := snapshot.LoadTree(ctx, r, a)
	if err != nil {
		return nil, err
	}
	tb, err := snapshot.LoadTree(ctx, r, b)
	if err != nil {
		return nil, err
	}
	var out []string
	names := map[string]bool{}
	for _, n := range ta.Nodes {
		names[n.Name] = true
	}
	for _, n := range tb.Nodes {
		names[n.Name] = true
	}
	for name := range names {
		na, nb := ta.Find(name), tb.Find(name)
		p := prefix + "/" + name
		if na == nil || nb == nil {
			out = append(out, p+": present in only one tree")
			continue
		}
		if na.Type == snapshot.NodeTypeDir && nb.Type == snapshot.NodeTypeDir && na.Subtree != nil && nb.Subtree != nil {
			sub, err := diffTrees(ctx, r, *na.Subtree, *nb.Subtree, p)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			na2, nb2 := *na, *nb
			na2.Subtree, nb2.Subtree = nil, nil
			ja, _ := na2.MarshalJSON()
			jb, _ := nb2.MarshalJSON()
			if string(ja) != string(jb) {
				out = append(out, fmt.Sprintf("%s: %s | %s", p, ja, jb))
			}
			continue
		}
		ja, _ := na.MarshalJSON()
		jb, _ := nb.MarshalJSON()
		if string(ja) != string(jb) {
			out = append(out, fmt.Sprintf("%s: %s | %s", p, ja, jb))
		}
	}
	return out, nil
}
