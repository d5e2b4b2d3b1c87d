package interop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend/local"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// forgetPolicies are the forget arguments compared with restic 0.14:
// every rule alone, combinations, windows, tags, grouping and filters.
var forgetPolicies = [][]string{
	{"-l", "1"}, {"-l", "7"}, {"--keep-last", "1000"},
	{"-H", "1"}, {"-H", "24"}, {"--keep-hourly", "100"},
	{"-d", "1"}, {"-d", "7"}, {"-d", "30"}, {"--keep-daily", "365"},
	{"-w", "4"}, {"-w", "53"}, {"--keep-weekly", "200"},
	{"-m", "1"}, {"-m", "12"}, {"--keep-monthly", "60"},
	{"-y", "1"}, {"-y", "3"}, {"--keep-yearly", "10"},
	{"-d", "7", "-w", "5", "-m", "12", "-y", "75"},
	{"-l", "3", "-H", "6", "-d", "3", "-w", "2", "-m", "2", "-y", "2"},
	{"--keep-within", "1d"}, {"--keep-within", "36h"}, {"--keep-within", "2m"},
	{"--keep-within", "1y2m3d4h"}, {"--keep-within", "100y"},
	{"--keep-within-hourly", "3d"}, {"--keep-within-daily", "1m"}, {"--keep-within-weekly", "1y"},
	{"--keep-within-monthly", "2y"}, {"--keep-within-yearly", "10y"},
	{"--keep-within-daily", "7d", "--keep-within-weekly", "1m", "--keep-within-monthly", "1y", "--keep-within-yearly", "75y"},
	{"--keep-within", "3m", "-l", "2", "-w", "3"},
	{"--keep-tag", "daily"}, {"--keep-tag", "a,b"}, {"--keep-tag", ""},
	{"--keep-tag", "manual", "--keep-tag", "weekly,daily"}, {"--keep-tag", "a,"}, {"--keep-tag", ",a"},
	{"--keep-tag", "nosuchtag"}, {"--keep-tag", "manual", "-d", "3", "-m", "2"},
	{"-g", "", "-d", "10"}, {"-g", "host", "-w", "3"}, {"-g", "paths", "-m", "4"},
	{"-g", "tags", "-l", "2"}, {"-g", "host,tags", "-d", "5", "-y", "2"},
	{"-g", "tags,paths,host", "-H", "5"}, {"-g", "hosts,path", "-l", "4"},
	{"--host", "alpha", "-d", "5"}, {"--host", "alpha", "--host", "gamma", "-m", "3"},
	{"--tag", "daily", "-w", "4"}, {"--tag", "a,b", "-l", "1"}, {"--tag", "", "-d", "2"},
	{"--tag", "manual", "--tag", "weekly", "-y", "1"}, {"--path", "/srv/data", "-d", "4"},
	{"--path", "/etc", "--path", "/home/u", "-w", "2"},
	{"--host", "beta", "--tag", "daily", "--path", "/srv/data", "--keep-within", "6m", "-g", "tags"},
	{"--host", "nosuchhost", "-l", "1"},
	{}, {"--host", "alpha"}, // no policy: restic 0.14 prints no JSON at all
}

// TestForgetMatchesRestic builds a long irregular history and compares
// `forget --dry-run --json` of restic and hbackup for every policy, group
// by group: group keys, kept and removed snapshots in order, reasons with
// counters, and the whole JSON of each group.
func TestForgetMatchesRestic(t *testing.T) {
	repoDir := filepath.Join(t.TempDir(), "repo")
	n := writeForgetHistory(t, repoDir)
	t.Logf("history: %d snapshots", n)
	testutil.RequireBinary(t, "restic")

	var groups, decisions atomic.Int64
	t.Cleanup(func() {
		t.Logf("compared %d groups, %d keep/remove decisions", groups.Load(), decisions.Load())
	})
	// The machine's zone matters for within windows (AddDate runs in the
	// zone a time was decoded into); run a subset in a DST zone too.
	for _, tz := range []string{"UTC", "Europe/Berlin"} {
		for i, args := range forgetPolicies {
			if tz != "UTC" && i%3 != 0 {
				continue
			}
			t.Run(tz+"/"+policyName(args), func(t *testing.T) {
				// Dry runs without locks may run side by side.
				t.Parallel()
				restic, hb := testutil.NewRestic(t, repoDir, "geheim"), newHbackup(repoDir)
				restic.Env, hb.env = []string{"TZ=" + tz}, []string{"TZ=" + tz}
				full := append([]string{"--no-lock", "forget", "--dry-run", "--json"}, args...)
				g, d := compareForgetJSON(t, restic.Run(t, full...), hb.run(t, full...))
				groups.Add(int64(g))
				decisions.Add(int64(d))
			})
		}
	}
}

func policyName(args []string) string {
	if len(args) == 0 {
		return "no-policy"
	}
	return strings.ReplaceAll(strings.Join(args, "_"), "/", "%")
}

// forgetGroup is the part of a forget --json group that is compared
// field by field; the raw group is compared as a whole afterwards.
type forgetGroup struct {
	Tags  []string `json:"tags"`
	Host  string   `json:"host"`
	Paths []string `json:"paths"`
	Keep  []struct {
		ID   string    `json:"id"`
		Time time.Time `json:"time"`
	} `json:"keep"`
	Remove []struct {
		ID string `json:"id"`
	} `json:"remove"`
	Reasons []struct {
		Snapshot struct {
			Time time.Time `json:"time"`
		} `json:"snapshot"`
		Matches  []string       `json:"matches"`
		Counters map[string]int `json:"counters"`
	} `json:"reasons"`
}

// compareForgetJSON compares two forget --json outputs and returns the
// number of groups and of snapshot decisions compared.
func compareForgetJSON(t *testing.T, want, got []byte) (groups, decisions int) {
	t.Helper()
	if len(bytes.TrimSpace(want)) == 0 || len(bytes.TrimSpace(got)) == 0 {
		if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(got)) {
			t.Fatalf("restic printed %q, hbackup %q", want, got)
		}
		return 0, 0
	}
	w, wRaw := decodeForget(t, "restic", want)
	g, gRaw := decodeForget(t, "hbackup", got)
	if keys := slices.Sorted(mapKeys(w)); !slices.Equal(keys, slices.Sorted(mapKeys(g))) {
		t.Fatalf("groups differ:\nrestic  %q\nhbackup %q", keys, slices.Sorted(mapKeys(g)))
	}
	for k, wg := range w {
		gg := g[k]
		same := diffList(t, k+": keep", keepIDs(wg), keepIDs(gg))
		same = diffList(t, k+": remove", removeIDs(wg), removeIDs(gg)) && same
		for i := range min(len(wg.Reasons), len(gg.Reasons)) {
			wr, gr := wg.Reasons[i], gg.Reasons[i]
			if !slices.Equal(wr.Matches, gr.Matches) || fmt.Sprint(wr.Counters) != fmt.Sprint(gr.Counters) {
				same = false
				t.Errorf("group %s: reason %d for %v: restic %q %v, hbackup %q %v", k, i,
					wr.Snapshot.Time, wr.Matches, wr.Counters, gr.Matches, gr.Counters)
			}
		}
		if same && !bytes.Equal(wRaw[k], gRaw[k]) {
			t.Errorf("group %s: JSON differs\n%s", k, firstDifference(wRaw[k], gRaw[k]))
		}
		groups++
		decisions += len(wg.Keep) + len(wg.Remove)
	}
	return groups, decisions
}

// decodeForget decodes the groups by key and re-encodes each one with
// sorted object keys, so that the raw JSON can be compared.
func decodeForget(t *testing.T, who string, out []byte) (map[string]forgetGroup, map[string][]byte) {
	t.Helper()
	var raws []json.RawMessage
	if err := json.Unmarshal(out, &raws); err != nil {
		t.Fatalf("%s output: %v\n%s", who, err, out)
	}
	groups, canon := map[string]forgetGroup{}, map[string][]byte{}
	for _, raw := range raws {
		var g forgetGroup
		var anyv any
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatalf("%s group: %v", who, err)
		}
		if err := json.Unmarshal(raw, &anyv); err != nil {
			t.Fatal(err)
		}
		k := fmt.Sprintf("host=%q paths=%q tags=%q", g.Host, g.Paths, g.Tags)
		if _, dup := groups[k]; dup {
			t.Fatalf("%s: group %s twice", who, k)
		}
		groups[k] = g
		canon[k], _ = json.Marshal(anyv)
	}
	return groups, canon
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// diffList reports a difference between restic's and hbackup's list:
// what only one of them has, or else that the order differs.
func diffList(t *testing.T, what string, want, got []string) bool {
	t.Helper()
	if slices.Equal(want, got) {
		return true
	}
	onlyW, onlyG := without(want, got), without(got, want)
	if len(onlyW) == 0 && len(onlyG) == 0 {
		t.Errorf("%s: same snapshots in another order\nrestic  %v\nhbackup %v", what, want, got)
	} else {
		t.Errorf("%s differs: only restic %v, only hbackup %v", what, onlyW, onlyG)
	}
	return false
}

func without(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// firstDifference shows both texts around where they first differ.
func firstDifference(a, b []byte) string {
	i := 0
	for i < min(len(a), len(b)) && a[i] == b[i] {
		i++
	}
	from := max(0, i-150)
	return fmt.Sprintf("restic  …%s…\nhbackup …%s…", a[from:min(len(a), i+150)], b[from:min(len(b), i+150)])
}

func keepIDs(g forgetGroup) []string {
	var ids []string
	for _, s := range g.Keep {
		ids = append(ids, s.ID[:8]+"@"+s.Time.Format(time.RFC3339))
	}
	return ids
}

func removeIDs(g forgetGroup) []string {
	var ids []string
	for _, s := range g.Remove {
		ids = append(ids, s.ID[:8])
	}
	return ids
}

// TestForgetTextMatchesRestic compares the human output for cases with a
// single group (restic prints groups in random order).
func TestForgetTextMatchesRestic(t *testing.T) {
	repoDir := filepath.Join(t.TempDir(), "repo")
	writeForgetHistory(t, repoDir)
	restic := testutil.NewRestic(t, repoDir, "geheim")
	hb := newHbackup(repoDir)
	for _, args := range [][]string{
		{"-g", "", "--host", "alpha", "-d", "10", "-w", "4", "--keep-tag", "manual"},
		{"--host", "beta", "--path", "/srv/data", "-l", "5", "-c"},
		{"--host", "gamma", "--path", "/etc", "--path", "/home/u", "-m", "6", "-v"},
		{"-g", "tags", "--tag", "weekly", "--keep-within", "2m", "-v"},
		{"-q", "-g", "", "--host", "alpha", "-l", "1"},
		{"--host", "alpha"},
	} {
		t.Run(policyName(args), func(t *testing.T) {
			full := append([]string{"forget", "--dry-run"}, args...)
			want := restic.Run(t, full...)
			got := hb.run(t, full...)
			if !bytes.Equal(want, got) {
				t.Errorf("output differs\nrestic:\n%s\nhbackup:\n%s", want, got)
			}
		})
	}
}

// TestForgetRemovesSameFiles runs forget for real with both tools on two
// copies of one repository and compares what is left.
func TestForgetRemovesSameFiles(t *testing.T) {
	base := t.TempDir()
	orig := filepath.Join(base, "orig")
	n := writeForgetHistory(t, orig)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"policy", []string{"-d", "7", "-w", "5", "-m", "12", "-y", "3", "--keep-tag", "manual"}},
		{"filtered", []string{"--host", "beta", "--tag", "daily", "--keep-within", "1y"}},
		{"ids", nil}, // filled below: explicit IDs, a prefix and "latest"
	} {
		t.Run(tc.name, func(t *testing.T) {
			rDir, hDir := filepath.Join(base, tc.name+"-restic"), filepath.Join(base, tc.name+"-hbackup")
			for _, d := range []string{rDir, hDir} {
				if err := os.CopyFS(d, os.DirFS(orig)); err != nil {
					t.Fatal(err)
				}
			}
			args := tc.args
			if args == nil {
				ids := snapshotFiles(t, orig)
				// A prefix matching nothing is reported and skipped by both.
				args = []string{ids[0], ids[10][:8], ids[20][:12], "ffffffffffff", "latest", "--host", "gamma"}
			}
			restic := testutil.NewRestic(t, rDir, "geheim")
			want := restic.Run(t, append([]string{"forget"}, args...)...)
			out := newHbackup(hDir).run(t, append([]string{"forget"}, args...)...)
			// Both end with "[m:ss] 100.00%  N / N files deleted".
			if a, b := deletedLine(want), deletedLine(out); a != b || a == "" {
				t.Errorf("restic says %q, hbackup %q", a, b)
			}
			left := snapshotFiles(t, hDir)
			if want := snapshotFiles(t, rDir); !slices.Equal(want, left) {
				t.Fatalf("restic left %d snapshots, hbackup %d\nhbackup output:\n%s", len(want), len(left), out)
			}
			if len(left) == n || len(left) == 0 {
				t.Fatalf("%d of %d snapshots left: the case tests nothing", len(left), n)
			}
			if locks, _ := os.ReadDir(filepath.Join(hDir, "locks")); len(locks) != 0 {
				t.Errorf("hbackup left %d lock files", len(locks))
			}
			testutil.NewRestic(t, hDir, "geheim").Run(t, "check")
		})
	}
}

// TestForgetRefuses: invalid prune options are refused before anything is
// forgotten, and a repository locked by someone else is not touched by
// either tool.
func TestForgetRefuses(t *testing.T) {
	repoDir := filepath.Join(t.TempDir(), "repo")
	n := writeForgetHistory(t, repoDir)
	hb := newHbackup(repoDir)
	_, errb, code := hb.runErr("forget", "--prune", "--max-unused", "120%", "-l", "1")
	if code == 0 || !strings.Contains(string(errb), "not a valid percentage") {
		t.Errorf("--prune with an invalid --max-unused: exit %d, stderr %s", code, errb)
	}
	if _, errb, code := hb.runErr("forget", "--keep-last", "-1"); code == 0 {
		t.Errorf("--keep-last -1 (removes everything in restic 0.14): exit 0, stderr %s", errb)
	}

	ctx := context.Background()
	r := openRepo(t, repoDir)
	lock, err := r.Lock(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock(ctx)
	if _, errb, code := hb.runErr("forget", "-l", "1"); code == 0 {
		t.Errorf("hbackup forget under a shared lock: exit 0\n%s", errb)
	}
	if _, errb, code := testutil.NewRestic(t, repoDir, "geheim").RunErr("forget", "-l", "1"); code == 0 {
		t.Errorf("restic forget under a shared lock: exit 0\n%s", errb)
	}
	if left := len(snapshotFiles(t, repoDir)); left != n {
		t.Errorf("%d of %d snapshots left", left, n)
	}
}

// deletedLine returns the final progress line without its elapsed time.
func deletedLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	_, rest, _ := strings.Cut(lines[len(lines)-1], "] ")
	return rest
}

func snapshotFiles(t *testing.T, repoDir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(repoDir, "snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// forgetSource is one backup source: a host and its paths (unsorted on
// purpose: restic sorts them for grouping and output).
type forgetSource struct {
	host  string
	paths []string
}

// writeForgetHistory creates a repository at repoDir holding a long,
// irregular, deterministic history written directly as snapshot files:
// sparse backups over four years, dense clusters around year ends, ISO
// week 53 of 2020, a leap day, a month end and both DST changes of
// 2023 in Europe/Berlin, times in several zones, and a few snapshots in
// the future. All instants are distinct, because restic 0.14 loads
// snapshots in parallel and orders equal times at random. It returns the
// number of snapshots.
func writeForgetHistory(t *testing.T, repoDir string) int {
	t.Helper()
	ctx := context.Background()
	be, err := local.New(repoDir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Init(ctx, be, "geheim", repo.InitOptions{KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// One empty tree for all snapshots keeps the repository valid.
	tree, err := snapshot.SaveTree(ctx, r, &snapshot.Tree{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	zones := []*time.Location{time.UTC, time.FixedZone("", 2*3600), time.FixedZone("", -5*3600),
		time.FixedZone("", 5*3600+45*60), time.FixedZone("", -(9*3600 + 30*60)), time.FixedZone("", 13*3600), berlin}
	sources := []forgetSource{
		{"alpha", []string{"/srv/data"}}, {"alpha", []string{"/home/u", "/etc"}},
		{"beta", []string{"/srv/data"}}, {"beta", []string{"/home/u", "/etc"}},
		{"gamma", []string{"/home/u", "/etc"}}, {"gamma", []string{"/srv/data"}},
	}
	tagSets := [][]string{nil, nil, nil, {"daily"}, {"daily"}, {"weekly", "daily"}, {"manual"}, {"b", "a"}, {"a"}}
	rng := rand.New(rand.NewPCG(5, 14))
	seen := map[int64]bool{}
	n := 0
	add := func(src forgetSource, tm time.Time) {
		for seen[tm.UnixNano()] {
			tm = tm.Add(time.Second)
		}
		seen[tm.UnixNano()] = true
		sn := &snapshot.Snapshot{
			Time: tm, Tree: &tree, Paths: slices.Clone(src.paths), Hostname: src.host,
			Username: "test", Tags: slices.Clone(tagSets[rng.IntN(len(tagSets))]),
		}
		if _, err := snapshot.Save(ctx, r, sn); err != nil {
			t.Fatal(err)
		}
		n++
	}
	jitter := func(max time.Duration) time.Duration { return time.Duration(rng.Int64N(int64(max))) }

	// Sparse backups: every 4 to 45 days, in any zone.
	for _, src := range sources {
		tm := time.Date(2019, 11, 1, 0, 0, 0, 0, time.UTC).Add(jitter(30 * 24 * time.Hour))
		for tm.Before(time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)) {
			add(src, tm.In(zones[rng.IntN(len(zones))]))
			tm = tm.Add(4*24*time.Hour + jitter(41*24*time.Hour))
		}
	}
	// Dense clusters, from 30 hours before to 40 hours after a day
	// starts, every 15 minutes to 7 hours, for two random sources.
	for _, c := range []struct {
		day  string
		zone *time.Location // nil: a random zone per snapshot
	}{
		{"2019-12-31", nil}, {"2020-02-29", nil}, {"2020-12-31", nil}, {"2021-01-03", nil}, {"2021-12-31", nil},
		{"2022-12-31", nil}, {"2023-03-26", berlin}, {"2023-03-31", nil}, {"2023-10-29", berlin}, {"2023-12-31", nil},
	} {
		day, err := time.Parse(time.DateOnly, c.day)
		if err != nil {
			t.Fatal(err)
		}
		for _, si := range rng.Perm(len(sources))[:2] {
			for tm := day.Add(-30 * time.Hour); tm.Before(day.Add(40 * time.Hour)); tm = tm.Add(15*time.Minute + jitter(405*time.Minute)) {
				zone := c.zone
				if zone == nil {
					zone = zones[rng.IntN(len(zones))]
				}
				add(sources[si], tm.In(zone))
			}
		}
	}
	// Exact boundary instants: the DST gaps and the repeated hour in
	// Berlin, and the last and first moments of a year in two zones.
	for i, ts := range []string{
		"2023-03-26T00:59:59Z", "2023-03-26T01:00:01Z", // 01:59:59+01:00, 03:00:01+02:00
		"2023-10-29T00:10:00Z", "2023-10-29T00:40:00Z", "2023-10-29T01:10:00Z", "2023-10-29T01:40:00Z", // 02:xx twice
		"2020-12-31T23:59:59.999999999+05:45", "2021-01-01T00:00:00.000000001+05:45",
		"2022-12-31T23:59:59-09:30", "2023-01-01T00:00:01-09:30",
	} {
		tm, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(ts, "Z") {
			tm = tm.In(berlin)
		}
		add(sources[i%3], tm)
	}
	// In the future: not the "newest" for --keep-within.
	for i, ts := range []string{"2031-06-01T12:00:00+02:00", "2035-01-01T00:00:00Z", "2033-03-03T03:03:03-05:00"} {
		tm, _ := time.Parse(time.RFC3339, ts)
		add(sources[2*i], tm)
	}
	return n
}
