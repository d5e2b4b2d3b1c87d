package pruner_test

import (
	"context"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/repo/pruner"
)

// slowSaves delays pack uploads, so that the repacked packs are still
// being uploaded when the readers finish.
type slowSaves struct{ backend.Backend }

func (s slowSaves) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if h.Type == backend.PackFile {
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.Backend.Save(ctx, h, rd)
}

// Uploads of repacked packs outlive the readers that filled them; they
// must not be cancelled when the readers are done (a bug that made prune
// fail with "context canceled" on large repositories).
func TestRepackUploadsOutliveReaders(t *testing.T) {
	// Enough data that the writer fills packs while the readers still
	// run (it keeps a pack open per worker).
	w := newWorld(t, 24)
	for i := 0; i < len(w.snapshots); i += 2 {
		w.forget(t, w.snapshots[i])
	}
	w.be = slowSaves{w.be}
	// Every pack is below the target size: all are merged into new ones.
	st := prune(t, w, pruner.Options{MaxUnused: mustParse(t, "0"), RepackSmall: true})
	if st.Packs.Repack < 2 {
		t.Fatalf("only %d packs repacked; the test needs several", st.Packs.Repack)
	}
	w.verify(t)
	w.check(t)
}

// uncompressedData counts the data blobs stored without compression.
func uncompressedData(t *testing.T, w *world) (n int) {
	t.Helper()
	r := w.open(t)
	if err := r.LoadIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.Index().Each(func(pb repo.PackedBlob) {
		if pb.Type == repo.DataBlob && pb.UncompressedLength == 0 {
			n++
		}
	})
	return n
}

// Repacking copies stored blobs as they are, except that
// RepackUncompressed compresses data blobs stored without compression.
func TestRepackUncompressedCompresses(t *testing.T) {
	w := newWorldCompressed(t, 3, repo.CompressionOff)
	before := uncompressedData(t, w)
	w.compression = repo.CompressionAuto
	// A plain repack of everything copies blobs as stored.
	prune(t, w, pruner.Options{MaxUnused: mustParse(t, "0"), RepackSmall: true})
	if n := uncompressedData(t, w); n != before {
		t.Fatalf("plain repack: %d uncompressed data blobs, want the %d it had", n, before)
	}
	prune(t, w, pruner.Options{MaxUnused: mustParse(t, "0"), RepackUncompressed: true})
	// Every data blob is compressed now, the random ones too although auto
	// stores those as they are when backing up: left uncompressed, they
	// would make every later run rewrite their packs again.
	if after := uncompressedData(t, w); after != 0 {
		t.Fatalf("repack-uncompressed: %d of %d uncompressed data blobs left", after, before)
	}
	if st := plan(t, w, pruner.Options{MaxUnused: mustParse(t, "0"), RepackUncompressed: true}); st.Packs.Repack != 0 {
		t.Fatalf("a second repack-uncompressed would repack %d packs", st.Packs.Repack)
	}
	w.verify(t)
	w.check(t)
}
