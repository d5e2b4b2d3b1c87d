package autosnap_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/zfs"
	"github.com/hbackup/hbackup/zfs/autosnap"
)

func names(t *testing.T, r *zfs.Runner, ds string) []string {
	t.Helper()
	snaps, err := r.Snapshots(context.Background(), ds, false)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range snaps {
		out = append(out, s.Name)
	}
	return out
}

// Real zfs-fuse, with "now" moved forward by hand: snapshot, prune, held
// snapshots kept, recursive snapshots of children.
func TestTakeAndPruneOnZFS(t *testing.T) {
	ctx := context.Background()
	p := testutil.NewZFSPool(t)
	r := p.Runner
	home := p.CreateDataset(t, "home", nil)
	child := p.CreateDataset(t, "home/alice", nil)
	tmpl := autosnap.Template{Hourly: 2, Daily: 1, Recursive: true}
	start := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

	// Dry run: reports, changes nothing.
	res, err := autosnap.TakeSnapshots(ctx, r, []string{home}, autosnap.Options{Template: tmpl, Now: start, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 2 || len(names(t, r, home)) != 0 {
		t.Fatalf("dry run created %v; dataset has %v", res.Created, names(t, r, home))
	}
	var held string
	for h := 0; h < 4; h++ {
		o := autosnap.Options{Template: tmpl, Now: start.Add(time.Duration(h) * time.Hour)}
		if _, err := autosnap.TakeSnapshots(ctx, r, []string{home}, o); err != nil {
			t.Fatal(err)
		}
		if h == 0 {
			held = home + "@" + autosnap.Name(autosnap.Hourly, start)
			if err := r.Hold(ctx, "keep", held); err != nil {
				t.Fatal(err)
			}
		}
		res, err := autosnap.Prune(ctx, r, []string{home}, o)
		if err != nil {
			t.Fatal(err)
		}
		if h == 3 && (len(res.Destroyed) != 2 || len(res.Kept) != 1 || res.Kept[0].Reason != "held") {
			t.Fatalf("prune at hour 3: %+v", res)
		}
	}
	want := []string{
		"autosnap_2026-11-22_10:00:00_hourly", "autosnap_2026-11-22_10:00:00_daily",
		"autosnap_2026-11-22_12:00:00_hourly", "autosnap_2026-11-22_13:00:00_hourly",
	}
	if got := names(t, r, home); !slices.Equal(got, want) {
		t.Fatalf("home snapshots %v, want %v", got, want)
	}
	// The child got the same snapshots (zfs snapshot -r) but no hold, so
	// its 10:00 hourly went.
	if got := names(t, r, child); !slices.Equal(got, append([]string{want[1]}, want[2:]...)) {
		t.Fatalf("child snapshots %v", got)
	}
	// Autoprune off destroys nothing; a non-recursive prune leaves children alone.
	late := start.Add(48 * time.Hour)
	off := tmpl
	off.NoAutoprune = true
	if res, err := autosnap.Prune(ctx, r, []string{home}, autosnap.Options{Template: off, Now: late}); err != nil || len(res.Destroyed) != 0 {
		t.Fatalf("autoprune off: %+v, %v", res, err)
	}
	flat := autosnap.Template{Hourly: 1}
	if _, err := autosnap.Prune(ctx, r, []string{home}, autosnap.Options{Template: flat, Now: late}); err != nil {
		t.Fatal(err)
	}
	if got := names(t, r, child); len(got) != 3 {
		t.Fatalf("non-recursive prune touched the child: %v", got)
	}
	for _, n := range names(t, r, home) {
		if strings.HasSuffix(n, "_daily") {
			t.Fatalf("daily survived a template without dailies: %v", names(t, r, home))
		}
	}
}

func TestTakeSnapshotsMissingDataset(t *testing.T) {
	p := testutil.NewZFSPool(t)
	_, err := autosnap.TakeSnapshots(context.Background(), p.Runner, []string{p.Name + "/nope"}, autosnap.Options{Template: autosnap.DefaultTemplate()})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("got %v", err)
	}
}
