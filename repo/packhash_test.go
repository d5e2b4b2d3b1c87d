package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/hbackup/hbackup/backend"
)

// Packs built in place by one saver: the two open data packs fill
// together, each pack's hash takes the other's start along, and every
// pack is still named by its hash.
func TestPackHashesPaired(t *testing.T) {
	ctx := t.Context()
	r, _ := openLocal(t, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	saved := map[ID][]byte{}
	bothOpen, total := 0, 0
	for range 200 {
		data := make([]byte, 100<<10+rng.IntN(200<<10))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		id, _, err := r.SaveBlob(ctx, DataBlob, data)
		if err != nil {
			t.Fatal(err)
		}
		saved[id] = data
		total += len(data)
		r.packerMu.Lock()
		if set := r.packers[DataBlob]; set != nil && set.open[0] != nil && set.open[1] != nil {
			bothOpen++
		}
		r.packerMu.Unlock()
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Right after a save that fills a pack, its slot is empty until the
	// next save: about one save in 20 here. With one pack open most of
	// the time (as before packs in files were opened without waiting),
	// 6 of 200.
	if bothOpen < 150 {
		t.Errorf("two data packs open after %d of 200 saves, want most", bothOpen)
	}
	requireBlobs(t, r, saved)
	// 200 blobs of 100-300 KiB in 4 MiB packs: about 10.
	if n := checkPacks(t, r.Backend()); n < 8 {
		t.Errorf("%d packs, want at least 8", n)
	}
	// Each paired byte counted comes with one in the other lane.
	if paired := 2 * r.pairedPackHash.Load(); paired < int64(total)/2 {
		t.Errorf("%d of %d bytes hashed in pairs, want at least half", paired, total)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// memFile is a pack file in memory whose reads can be made to fail.
type memFile struct {
	data     []byte
	readFail bool
}

var errReadBack = errors.New("read back failed (test)")

func (f *memFile) WriteAt(p []byte, off int64) (int, error) { return copy(f.data[off:], p), nil }
func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	if f.readFail {
		return 0, errReadBack
	}
	return copy(p, f.data[off:]), nil
}
func (f *memFile) Commit(context.Context, backend.Handle) error { return nil }
func (f *memFile) Abort() error                                 { return nil }
func (f *memFile) Direct() backend.DirectWriter                 { return nil }

// A partner pack whose file fails to read (it was merged away at Flush)
// loses its partial hash, and its commit hashes it again from the start;
// the pack whose hash took it along is not affected.
func TestPackHashPartnerGone(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	r := &Repository{stages: newStagePool(4)}
	pf := &memFile{data: random(3*stageRound + 1000)}
	qf := &memFile{data: random(2*stageRound + 77)}
	p, q := newFilePacker(pf, len(pf.data)), newFilePacker(qf, len(qf.data))
	p.length, q.length = len(pf.data), len(qf.data)

	// Hash ahead: a stage of each, paired.
	p.prefix.mu.Lock()
	q.prefix.mu.Lock()
	if err := r.hashPrefixes(p, stageRound, q, stageRound); err != nil {
		t.Fatal(err)
	}
	if p.prefix.n != stageRound || q.prefix.n != stageRound || r.pairedPackHash.Load() != stageRound {
		t.Fatalf("hashed %d and %d bytes, %d paired; want a stage each, paired", p.prefix.n, q.prefix.n, r.pairedPackHash.Load())
	}
	// p's commit takes q along, but q's file fails now.
	qf.readFail = true
	if err := r.hashPrefixes(p, p.length, q, q.length); err != nil {
		t.Fatalf("p's hash failed with its partner's read error: %v", err)
	}
	if q.prefix.n != 0 {
		t.Errorf("partner's prefix after a failed read: %d bytes, want reset to 0", q.prefix.n)
	}
	q.prefix.mu.Unlock()
	p.prefix.mu.Unlock()
	if got, want := p.prefix.digest.Sum(), sha256.Sum256(pf.data); got != want {
		t.Errorf("p's hash %x, want %x", got, want)
	}
	// q's own commit starts over: with its file back, the hash is right;
	// with it failing, the commit gets the error.
	tail := []byte("sealed header")
	qf.readFail = false
	id, err := r.filePackID(q, tail)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(append(bytes.Clone(qf.data), tail...)); id != ID(want) {
		t.Errorf("q's pack ID %v, want %x", id, want)
	}
	f := newFilePacker(&memFile{data: random(100), readFail: true}, 100)
	f.length = 100
	if _, err := r.filePackID(f, tail); !errors.Is(err, errReadBack) {
		t.Errorf("filePackID of an unreadable file: %v, want the read error", err)
	}
}
