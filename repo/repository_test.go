package repo_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo"
)

// fastKDF keeps tests quick; restic accepts any valid parameters.
var fastKDF = crypto.Params{N: 1024, R: 8, P: 1}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func initRepo(t *testing.T, be backend.Backend, version uint, opts repo.Options) *repo.Repository {
	t.Helper()
	ctx := context.Background()
	r, err := repo.Init(ctx, be, "secret", repo.InitOptions{Version: version, KDF: fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r, err = repo.Open(ctx, be, "secret", opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSaveLoadRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version uint
		comp    repo.Compression
	}{
		{"v2-auto", 2, repo.CompressionAuto},
		{"v2-off", 2, repo.CompressionOff},
		{"v2-max", 2, repo.CompressionMax},
		{"v1", 1, repo.CompressionAuto},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			be := mem.New()
			r := initRepo(t, be, tc.version, repo.Options{Compression: tc.comp, PackSize: repo.MinPackSize})
			blobs := map[repo.BlobHandle][]byte{}
			sizes := []int{0, 1, 100, 4096, 1 << 20, 3 << 20}
			for i, n := range sizes {
				for _, typ := range []repo.BlobType{repo.DataBlob, repo.TreeBlob} {
					data := randomBytes(uint64(i)*2+uint64(typ), n)
					if typ == repo.DataBlob && compressibleData(n) {
						data = append([]byte{byte(i)}, bytes.Repeat([]byte("data "), n/5+1)...)[:n]
					}
					if typ == repo.TreeBlob {
						data = append([]byte{byte(i)}, bytes.Repeat([]byte("tree "), n/5)...) // compressible, unique
					}
					id, known, err := r.SaveBlob(ctx, typ, data)
					if err != nil {
						t.Fatal(err)
					}
					if known {
						t.Fatalf("blob %d of type %v reported known on first save", i, typ)
					}
					blobs[repo.BlobHandle{ID: id, Type: typ}] = data
				}
			}
			// Saving again deduplicates.
			for h, data := range blobs {
				_, known, err := r.SaveBlob(ctx, h.Type, data)
				if err != nil || !known {
					t.Fatalf("second save of %v: known=%v err=%v", h, known, err)
				}
			}
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}

			// A fresh handle sees everything through the index files.
			r2, err := repo.Open(ctx, be, "secret", repo.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := r2.LoadIndex(ctx); err != nil {
				t.Fatal(err)
			}
			for h, want := range blobs {
				got, err := r2.LoadBlob(ctx, h.Type, h.ID, nil)
				if err != nil {
					t.Fatalf("load %v: %v", h, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("blob %v: content differs", h)
				}
				pb := r2.Index().Lookup(h)[0]
				compressed := pb.UncompressedLength != 0
				// Trees are always compressed in v2; random data blobs never
				// shrink, so they are stored as they are.
				wantCompressed := tc.version == 2 && len(want) > 0 && (h.Type == repo.TreeBlob ||
					tc.comp != repo.CompressionOff && compressibleData(len(want)))
				if compressed != wantCompressed {
					t.Errorf("blob %v (len %d): compressed=%v, want %v", h, len(want), compressed, wantCompressed)
				}
			}

			// Every pack header agrees with the index, and packs hold one
			// blob type only.
			packs := 0
			err = r2.List(ctx, backend.PackFile, func(id repo.ID, size int64) error {
				packs++
				hdr, err := r2.ReadPackHeader(ctx, id, size)
				if err != nil {
					return err
				}
				for _, pb := range hdr {
					if pb.Type != hdr[0].Type {
						t.Errorf("pack %v mixes blob types", id.Str())
					}
					found := false
					for _, ipb := range r2.Index().Lookup(pb.BlobHandle) {
						found = found || ipb == pb
					}
					if !found {
						t.Errorf("pack %v: header entry %v not in index as %+v", id.Str(), pb.BlobHandle, pb)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if packs < 2 {
				t.Fatalf("expected data and tree packs, got %d packs", packs)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	be := mem.New()
	if _, err := repo.Open(ctx, be, "secret", repo.Options{}); !errors.Is(err, repo.ErrNoRepository) {
		t.Fatalf("open of empty backend: %v, want ErrNoRepository", err)
	}
	initRepo(t, be, 2, repo.Options{})
	if _, err := repo.Open(ctx, be, "wrong", repo.Options{}); !errors.Is(err, repo.ErrWrongPassword) {
		t.Fatalf("open with wrong password: %v, want ErrWrongPassword", err)
	}
	if _, err := repo.Init(ctx, be, "secret", repo.InitOptions{KDF: fastKDF}); !errors.Is(err, repo.ErrRepositoryExists) {
		t.Fatalf("second init: %v, want ErrRepositoryExists", err)
	}
	if _, err := repo.Init(ctx, mem.New(), "", repo.InitOptions{KDF: fastKDF}); err == nil {
		t.Fatal("init with empty password succeeded")
	}
}

func TestSeveralKeys(t *testing.T) {
	ctx := context.Background()
	be := mem.New()
	r := initRepo(t, be, 2, repo.Options{})
	if _, err := r.AddKey(ctx, "second", fastKDF, "u", "h"); err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"secret", "second"} {
		r2, err := repo.Open(ctx, be, pw, repo.Options{})
		if err != nil {
			t.Fatalf("open with %q: %v", pw, err)
		}
		if r2.Config() != r.Config() {
			t.Fatal("config differs between keys")
		}
	}
}

func TestCorruptionIsDetected(t *testing.T) {
	ctx := context.Background()
	be := mem.New()
	r := initRepo(t, be, 2, repo.Options{})
	id, _, err := r.SaveBlob(ctx, repo.DataBlob, randomBytes(1, 5000))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	pb := r.Index().Lookup(repo.BlobHandle{ID: id, Type: repo.DataBlob})[0]
	h := backend.Handle{Type: backend.PackFile, Name: pb.PackID.String()}
	data, err := backend.LoadAll(ctx, be, h)
	if err != nil {
		t.Fatal(err)
	}

	// Flip one byte inside the blob.
	bad := append([]byte(nil), data...)
	bad[pb.Offset+20] ^= 1
	if err := be.Remove(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := be.Save(ctx, h, backend.NewByteReader(bad)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.LoadBlob(ctx, repo.DataBlob, id, nil); !errors.Is(err, repo.ErrIntegrity) {
		t.Fatalf("load of corrupted blob: %v, want ErrIntegrity", err)
	}

	// Truncate the pack: the header can no longer be read.
	if err := be.Remove(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := be.Save(ctx, h, backend.NewByteReader(data[:len(data)-10])); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadPackHeader(ctx, pb.PackID, 0); err == nil {
		t.Fatal("header of truncated pack was read without error")
	}

	// A damaged snapshot file is named in the error.
	snID, err := r.SaveUnpacked(ctx, backend.SnapshotFile, []byte(`{"time":"2020-01-01T00:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	sh := backend.Handle{Type: backend.SnapshotFile, Name: snID.String()}
	raw, _ := backend.LoadAll(ctx, be, sh)
	raw[len(raw)-1] ^= 0xff
	_ = be.Remove(ctx, sh)
	_ = be.Save(ctx, sh, backend.NewByteReader(raw))
	_, err = r.LoadUnpacked(ctx, backend.SnapshotFile, snID)
	if !errors.Is(err, repo.ErrIntegrity) || !bytes.Contains([]byte(err.Error()), []byte(snID.String())) {
		t.Fatalf("damaged snapshot: %v, want ErrIntegrity naming the file", err)
	}
}

func TestLocks(t *testing.T) {
	ctx := context.Background()
	be := mem.New()
	r := initRepo(t, be, 2, repo.Options{})
	shared, err := r.Lock(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	shared2, err := r.Lock(ctx, false)
	if err != nil {
		t.Fatalf("two shared locks must coexist: %v", err)
	}
	if _, err := r.Lock(ctx, true); !errors.Is(err, repo.ErrLocked) {
		t.Fatalf("exclusive lock while shared held: %v, want ErrLocked", err)
	}
	if err := shared.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := shared2.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	ex, err := r.Lock(ctx, true)
	if err != nil {
		t.Fatalf("exclusive lock on unlocked repo: %v", err)
	}
	if _, err := r.Lock(ctx, false); !errors.Is(err, repo.ErrLocked) {
		t.Fatalf("shared lock while exclusive held: %v, want ErrLocked", err)
	}
	if err := ex.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	_ = r.List(ctx, backend.LockFile, func(repo.ID, int64) error { n++; return nil })
	if n != 0 {
		t.Fatalf("%d lock files left after unlock", n)
	}
}

func TestFindID(t *testing.T) {
	ctx := context.Background()
	r := initRepo(t, mem.New(), 2, repo.Options{})
	id, err := r.SaveUnpacked(ctx, backend.SnapshotFile, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.FindID(ctx, backend.SnapshotFile, id.String()[:8])
	if err != nil || got != id {
		t.Fatalf("FindID prefix: %v %v", got, err)
	}
	if _, err := r.FindID(ctx, backend.SnapshotFile, "ffffffff"); !errors.Is(err, repo.ErrNotFound) && id.String()[:8] != "ffffffff" {
		t.Fatalf("FindID of unknown prefix: %v", err)
	}
}

// TestPackOrderDoesNotFollowFileOrder checks the chunking-attack
// mitigation (restic 0.18, #5291): consecutive blobs go to one of two open
// packers at random, so a pack does not hold a file's chunks in order.
func TestPackOrderDoesNotFollowFileOrder(t *testing.T) {
	ctx := context.Background()
	r := initRepo(t, mem.New(), 2, repo.Options{Compression: repo.CompressionOff, PackSize: repo.MinPackSize})
	var order []repo.ID
	for i := 0; i < 64; i++ {
		id, _, err := r.SaveBlob(ctx, repo.DataBlob, randomBytes(uint64(1000+i), 512<<10))
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, id)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// With one packer, blob i and i+1 would always share a pack except at
	// pack boundaries (every 8th). Count how often they do not.
	split := 0
	for i := 0; i+1 < len(order); i++ {
		a := r.Index().Lookup(repo.BlobHandle{ID: order[i], Type: repo.DataBlob})[0]
		b := r.Index().Lookup(repo.BlobHandle{ID: order[i+1], Type: repo.DataBlob})[0]
		if a.PackID != b.PackID {
			split++
		}
	}
	if split <= 63/8+1 {
		t.Fatalf("consecutive blobs were split across packs only %d times: packs follow file order", split)
	}
}

// saveFlushed stores data as a data blob, flushes, and returns its index
// entry.
func saveFlushed(t *testing.T, r *repo.Repository, data []byte) repo.PackedBlob {
	t.Helper()
	ctx := context.Background()
	id, _, err := r.SaveBlob(ctx, repo.DataBlob, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return r.Index().Lookup(repo.BlobHandle{ID: id, Type: repo.DataBlob})[0]
}

// compressibleData reports whether TestSaveLoadRoundTrip makes a data
// blob of n bytes compressible (the others are random).
func compressibleData(n int) bool { return n == 4096 || n == 3<<20 }

// TestAutoCompressionProbe: in auto mode compressible data is compressed
// and random data is stored as it is, found by the probe (large blobs) or
// because it did not shrink (small ones); max tries every blob.
func TestAutoCompressionProbe(t *testing.T) {
	ctx := context.Background()
	text := bytes.Repeat([]byte("a log line with some words 12345\n"), 20000)
	random := randomBytes(99, 600<<10)
	smallRandom := randomBytes(98, 20<<10) // below the probe's minimum
	for _, tc := range []struct {
		comp                 repo.Compression
		wantText, wantRandom bool
	}{
		{repo.CompressionAuto, true, false},
		{repo.CompressionMax, true, false},
		{repo.CompressionOff, false, false},
	} {
		r := initRepo(t, mem.New(), 2, repo.Options{Compression: tc.comp})
		for _, c := range []struct {
			data []byte
			want bool
		}{{text, tc.wantText}, {random, tc.wantRandom}, {smallRandom, false}} {
			pb := saveFlushed(t, r, c.data)
			if got := pb.UncompressedLength != 0; got != c.want {
				t.Errorf("%v: blob of %d bytes compressed=%v, want %v", tc.comp, len(c.data), got, c.want)
			}
			back, err := r.LoadBlob(ctx, repo.DataBlob, pb.ID, nil)
			if err != nil || !bytes.Equal(back, c.data) {
				t.Fatalf("%v: round trip failed: %v", tc.comp, err)
			}
		}
	}
}

// TestCompressionSkewedLiterals: text with almost no repeats but a small
// alphabet (base64, hex) must be compressed in auto mode, as restic 0.14
// does, both below the probe's minimum size and through the probe. Newer
// klauspost/compress versions only entropy-code such blocks when asked.
func TestCompressionSkewedLiterals(t *testing.T) {
	ctx := context.Background()
	raw := randomBytes(7, 3<<20)
	b64 := []byte(base64.StdEncoding.EncodeToString(raw))
	hx := []byte(hex.EncodeToString(raw))
	r := initRepo(t, mem.New(), 2, repo.Options{Compression: repo.CompressionAuto})
	for _, c := range []struct {
		name string
		data []byte
		max  float64 // stored/original at most; the entropy is 0.75 and 0.5
	}{
		{"base64 16 KiB", b64[:16<<10], 0.8},
		{"base64 1 MiB", b64[:1<<20], 0.8},
		{"hex 16 KiB", hx[:16<<10], 0.55},
		{"hex 1 MiB", hx[:1<<20], 0.55},
	} {
		pb := saveFlushed(t, r, c.data)
		if ratio := float64(pb.Length) / float64(len(c.data)); pb.UncompressedLength == 0 || ratio > c.max {
			t.Errorf("%s: stored %d of %d bytes (%.3f, compressed=%v), want at most %.2f",
				c.name, pb.Length, len(c.data), ratio, pb.UncompressedLength != 0, c.max)
		}
		back, err := r.LoadBlob(ctx, repo.DataBlob, pb.ID, nil)
		if err != nil || !bytes.Equal(back, c.data) {
			t.Fatalf("%s: round trip failed: %v", c.name, err)
		}
	}
}

// TestAutoCompressionMixedBlob: a blob random at its start, middle and
// end but text in between (as in a tar or a disk image) is compressible,
// and auto must see it: restic compresses it, and three probe samples at
// those places once stored it as it was.
func TestAutoCompressionMixedBlob(t *testing.T) {
	const n = 1 << 20
	data := randomBytes(5, n)
	line := []byte("GET /index.html HTTP/1.1 200 5120 \"Mozilla/5.0\"\n")
	for _, r := range [][2]int{{n / 8, n * 3 / 8}, {n * 5 / 8, n * 7 / 8}} {
		for off := r[0]; off < r[1]; off += len(line) {
			copy(data[off:r[1]], line)
		}
	}
	r := initRepo(t, mem.New(), 2, repo.Options{Compression: repo.CompressionAuto})
	pb := saveFlushed(t, r, data)
	if ratio := float64(pb.Length) / n; pb.UncompressedLength == 0 || ratio > 0.55 {
		t.Fatalf("half-text blob stored at %.3f of its size (compressed=%v), want at most 0.55", ratio, pb.UncompressedLength != 0)
	}
}

func TestStaleLocksAndUnlock(t *testing.T) {
	ctx := context.Background()
	r := initRepo(t, mem.New(), 2, repo.Options{})
	host, _ := os.Hostname()
	save := func(li repo.LockInfo) {
		t.Helper()
		data, _ := json.Marshal(li)
		if _, err := r.SaveUnpacked(ctx, backend.LockFile, data); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	save(repo.LockInfo{Time: now.Add(-time.Hour), Exclusive: true, Hostname: "elsewhere", PID: 1}) // too old
	save(repo.LockInfo{Time: now, Hostname: host, PID: 1 << 30})                                   // dead process here
	save(repo.LockInfo{Time: now, Hostname: "elsewhere", PID: 1})                                  // fresh, other host
	save(repo.LockInfo{Time: now, Hostname: host, PID: os.Getpid()})                               // this live process

	if _, err := r.Lock(ctx, true); !errors.Is(err, repo.ErrLocked) {
		t.Fatalf("exclusive lock with locks present: %v", err)
	}
	n, err := r.RemoveLocks(ctx, false)
	if err != nil || n != 2 {
		t.Fatalf("removed %d stale locks (%v), want 2", n, err)
	}
	n, err = r.RemoveLocks(ctx, true)
	if err != nil || n != 2 {
		t.Fatalf("remove all: %d (%v), want 2", n, err)
	}
	l, err := r.LockWithRetry(ctx, true, 0)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	_ = l.Unlock(ctx)
}

// Unpacked files on both sides of the size from which SaveUnpacked seals
// outside the Go heap read back as they were written, compressed (v2) or
// not (v1), and a file that does not compress still fits its buffer.
func TestSaveUnpackedSizes(t *testing.T) {
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(3, 4))
	text := make([]byte, 3<<20)
	for i := range text {
		text[i] = "abcdefgh {}\":,0123456789"[rng.IntN(24)]
	}
	random := make([]byte, 3<<20)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	for _, version := range []uint{1, 2} {
		r := initRepo(t, mem.New(), version, repo.Options{})
		for _, data := range [][]byte{text[:100], text[:1<<20-64], text, random[:1<<20], random} {
			id, err := r.SaveUnpacked(ctx, backend.SnapshotFile, data)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.LoadUnpacked(ctx, backend.SnapshotFile, id)
			if err != nil {
				t.Fatalf("v%d, %d bytes: %v", version, len(data), err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("v%d, %d bytes: read back %d bytes, not what was written", version, len(data), len(got))
			}
		}
		_ = r.Close()
	}
}
