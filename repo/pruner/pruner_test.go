package pruner_test

import (
	"context"
	"maps"
	"testing"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/repo/checker"
	"github.com/hbackup/hbackup/repo/pruner"
)

func mustParse(t *testing.T, s string) func(uint64) uint64 {
	t.Helper()
	f, err := pruner.ParseMaxUnused(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func prune(t *testing.T, w *world, opts pruner.Options) pruner.Stats {
	t.Helper()
	ctx := context.Background()
	plan, err := pruner.NewPlan(ctx, w.open(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Execute(ctx, nil); err != nil {
		t.Fatal(err)
	}
	st := plan.Stats()
	t.Logf("pruned: blobs %+v packs %+v", st.Blobs, st.Packs)
	return st
}

func plan(t *testing.T, w *world, opts pruner.Options) pruner.Stats {
	t.Helper()
	p, err := pruner.NewPlan(context.Background(), w.open(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	return p.Stats()
}

func TestPruneRemovesAllUnused(t *testing.T) {
	w := newWorld(t, 3)
	w.forget(t, w.snapshots[0])
	st := prune(t, w, pruner.Options{MaxUnused: mustParse(t, "0")})
	if st.Blobs.Remove+st.Blobs.RepackRemove == 0 {
		t.Fatalf("nothing pruned: %+v", st)
	}
	w.verify(t)
	res := w.check(t)
	for _, h := range res.Hints {
		if _, ok := h.(*checker.UnusedBlobHint); ok {
			t.Errorf("unused blob left with --max-unused 0: %v", h)
		}
	}
	// A second prune finds nothing to do.
	st = plan(t, w, pruner.Options{MaxUnused: mustParse(t, "0")})
	if st.Blobs.Unused != 0 || st.Packs.Repack != 0 || st.Packs.Remove != 0 || st.Blobs.Duplicate != 0 {
		t.Fatalf("second prune would still act: %+v", st)
	}
}

func TestPruneDryRunChangesNothing(t *testing.T) {
	w := newWorld(t, 2)
	w.forget(t, w.snapshots[0])
	before := fingerprint(t, w.be)
	st := plan(t, w, pruner.Options{MaxUnused: mustParse(t, "0")})
	if st.Blobs.Remove+st.Blobs.RepackRemove == 0 {
		t.Fatalf("plan finds nothing to prune: %+v", st)
	}
	if after := fingerprint(t, w.be); !maps.Equal(before, after) {
		t.Fatal("planning changed the repository")
	}
}

func TestPruneMaxUnused(t *testing.T) {
	for _, limit := range []string{"unlimited", "5%", "30%", "100k"} {
		t.Run(limit, func(t *testing.T) {
			w := newWorld(t, 3)
			w.forget(t, w.snapshots[0], w.snapshots[1])
			opts := pruner.Options{MaxUnused: mustParse(t, limit)}
			st := prune(t, w, opts)
			if limit == "unlimited" && st.Packs.Repack != 0 {
				t.Errorf("unlimited repacked %d packs", st.Packs.Repack)
			}
			w.verify(t)
			w.check(t)
			after := plan(t, w, opts)
			if max := opts.MaxUnused(after.Size.Used); after.Size.Unused > max && limit != "unlimited" {
				t.Errorf("unused %d > limit %d after prune", after.Size.Unused, max)
			}
			if after.Packs.Unused != 0 {
				t.Errorf("%d unused packs left", after.Packs.Unused)
			}
		})
	}
}

func TestPruneMaxRepackSize(t *testing.T) {
	w := newWorld(t, 3)
	w.forget(t, w.snapshots[0], w.snapshots[1])
	opts := pruner.Options{MaxUnused: mustParse(t, "0")}
	full := plan(t, w, opts)
	if full.Size.Repack == 0 {
		t.Skip("nothing to repack in this layout")
	}
	opts.MaxRepackBytes = full.Size.Repack / 2
	st := prune(t, w, opts)
	if st.Size.Repack >= opts.MaxRepackBytes {
		t.Errorf("repacked %d bytes, limit %d", st.Size.Repack, opts.MaxRepackBytes)
	}
	w.verify(t)
	w.check(t)
}

func TestPruneIgnoreSnapshots(t *testing.T) {
	w := newWorld(t, 2)
	forgotten := plan(t, w, pruner.Options{IgnoreSnapshots: w.snapshots[:1]})
	w.forget(t, w.snapshots[0])
	real := plan(t, w, pruner.Options{})
	if forgotten.Blobs != real.Blobs || forgotten.Snapshots != real.Snapshots {
		t.Errorf("ignoring a snapshot plans %+v, forgetting it %+v", forgotten.Blobs, real.Blobs)
	}
}

func TestParseMaxUnused(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "10%": 111, "50%": 1000, "1k": 1024, "2M": 2 << 20} {
		f, err := pruner.ParseMaxUnused(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := f(1000); got != want {
			t.Errorf("%s: %d, want %d", in, got, want)
		}
	}
	for _, bad := range []string{"-1%", "101%", "x", "5%%", ""} {
		if _, err := pruner.ParseMaxUnused(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestPruneDuplicates stores every blob of the repository a second time
// (as a prune killed after repacking leaves it); prune keeps one copy.
func TestPruneDuplicates(t *testing.T) {
	w := newWorld(t, 2)
	ctx := context.Background()
	r := w.open(t)
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	dup, err := r.NewRepackWriter()
	if err != nil {
		t.Fatal(err)
	}
	var blobs []repo.PackedBlob
	r.Index().Each(func(pb repo.PackedBlob) { blobs = append(blobs, pb) })
	for _, pb := range blobs {
		data, err := r.LoadBlob(ctx, pb.Type, pb.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := dup.SaveBlobID(ctx, pb.Type, pb.ID, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := dup.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	dup.Close()
	before := plan(t, w, pruner.Options{})
	if before.Blobs.Duplicate != len(blobs) {
		t.Fatalf("%d duplicates, want %d", before.Blobs.Duplicate, len(blobs))
	}
	prune(t, w, pruner.Options{MaxUnused: mustParse(t, "0")})
	w.verify(t)
	w.check(t)
	if after := plan(t, w, pruner.Options{}); after.Blobs.Duplicate != 0 || after.Blobs.Unused != 0 {
		t.Fatalf("after prune: %+v", after.Blobs)
	}
}

// TestPruneRepackSmall merges fully used small packs.
func TestPruneRepackSmall(t *testing.T) {
	w := newWorld(t, 3)
	before := plan(t, w, pruner.Options{})
	if before.Packs.Repack != 0 {
		t.Fatalf("repacks without --repack-small: %+v", before.Packs)
	}
	st := prune(t, w, pruner.Options{RepackSmall: true})
	if st.Packs.Repack < 2 {
		t.Fatalf("--repack-small repacked %d packs", st.Packs.Repack)
	}
	w.verify(t)
	w.check(t)
}
