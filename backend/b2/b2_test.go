package b2

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/backendtest"
	"github.com/hbackup/hbackup/backend/retry"
	"github.com/hbackup/hbackup/internal/testutil"
)

// newEmuBackend returns a backend on the emulator's bucket "bucket",
// with cfg's other fields as given.
func newEmuBackend(t *testing.T, emu *testutil.B2Emulator, cfg Config) *Backend {
	t.Helper()
	cfg.AccountID, cfg.Key, cfg.Endpoint = emu.AccountID, emu.Key, emu.URL
	if cfg.Bucket == "" {
		cfg.Bucket = "bucket"
	}
	be, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return be
}

// fastRetry retries quickly, so fault tests do not wait for backoff.
func fastRetry(be backend.Backend) backend.Backend {
	return retry.New(be, retry.Options{InitialDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond, MaxRetries: 20})
}

func checkNoViolations(t *testing.T, emu *testutil.B2Emulator) {
	t.Helper()
	if v := emu.Violations(); len(v) > 0 {
		t.Errorf("the client broke B2's rules: %v", v)
	}
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts testutil.B2EmuOptions
		cfg  Config
	}{
		{"hard-delete", testutil.B2EmuOptions{}, Config{HardDelete: true, Prefix: "repo/sub"}},
		{"hide", testutil.B2EmuOptions{}, Config{}},
		{"bucket-root", testutil.B2EmuOptions{}, Config{HardDelete: true}},
		// Every file of 1000 bytes or more goes up in parts of 300.
		{"large-files", testutil.B2EmuOptions{MinPartSize: 100}, Config{HardDelete: true, LargeFileThreshold: 1000, PartSize: 300}},
		{"restricted-key", testutil.B2EmuOptions{Buckets: []string{"other", "bucket"}, RestrictToBucket: "bucket"}, Config{HardDelete: true, Prefix: "r"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backendtest.Run(t, func(t *testing.T) backend.Backend {
				emu := testutil.StartB2Emulator(t, tc.opts)
				t.Cleanup(func() { checkNoViolations(t, emu) })
				return newEmuBackend(t, emu, tc.cfg)
			})
		})
	}
}

// TestConformanceFaults runs the suite with random faults through the
// retry decorator. 503 and 429 are left out: each costs a one-second
// Retry-After; TestFaultKinds and the interop test cover them.
func TestConformanceFaults(t *testing.T) {
	kinds := []testutil.B2FaultKind{
		testutil.B2Fault500, testutil.B2FaultDropConnection, testutil.B2FaultTruncateDownload,
		testutil.B2FaultCorruptUpload, testutil.B2FaultExpireToken, testutil.B2FaultCorruptDownload,
	}
	var emus []*testutil.B2Emulator
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		emu := testutil.StartB2Emulator(t, testutil.B2EmuOptions{MinPartSize: 100})
		emus = append(emus, emu)
		t.Cleanup(func() { checkNoViolations(t, emu) })
		be := newEmuBackend(t, emu, Config{HardDelete: true, LargeFileThreshold: 4000, PartSize: 1500})
		emu.InjectRandom(0.08, uint64(len(emus)), kinds...)
		return fastRetry(be)
	})
	total := 0
	for _, emu := range emus {
		for _, k := range kinds {
			total += emu.Observed(k)
		}
	}
	t.Logf("%d faults injected", total)
	if total == 0 {
		t.Error("no fault was injected")
	}
}

func randomName() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// TestRealB2 runs the suite against real B2 when credentials are given.
func TestRealB2(t *testing.T) {
	id, key := os.Getenv("HBACKUP_TEST_B2_ACCOUNT_ID"), os.Getenv("HBACKUP_TEST_B2_ACCOUNT_KEY")
	bucket := os.Getenv("HBACKUP_TEST_B2_BUCKET")
	if id == "" || key == "" || bucket == "" {
		// Not a missing tool: no B2 account exists in CI, so this skips
		// even with HBACKUP_REQUIRE_INTEGRATION=1; the emulator tests
		// cover the protocol.
		t.Skip("real B2 not configured: set HBACKUP_TEST_B2_ACCOUNT_ID, HBACKUP_TEST_B2_ACCOUNT_KEY and HBACKUP_TEST_B2_BUCKET " +
			"(skipped even under HBACKUP_REQUIRE_INTEGRATION=1: CI has no B2 account; the emulator tests run instead)")
	}
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		be, err := New(t.Context(), Config{AccountID: id, Key: key, Bucket: bucket,
			Prefix: "hbackup-test/" + randomName()[:16], HardDelete: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { removeAll(t, be) })
		return retry.New(be, retry.Options{})
	})
}

// removeAll deletes what a test left behind. It runs in Cleanup, when
// t.Context() is already cancelled, so it has its own context.
func removeAll(t *testing.T, be *Backend) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_ = be.Remove(ctx, backend.Handle{Type: backend.ConfigFile})
	for _, ft := range backend.AllTypes {
		_ = be.List(ctx, ft, func(fi backend.FileInfo) error {
			return be.Remove(ctx, backend.Handle{Type: ft, Name: fi.Name})
		})
	}
}

func TestBadCredentials(t *testing.T) {
	emu := testutil.StartB2Emulator(t, testutil.B2EmuOptions{})
	_, err := New(t.Context(), Config{AccountID: emu.AccountID, Key: "wrong", Bucket: "bucket", Endpoint: emu.URL})
	if !errors.Is(err, ErrUnauthorized) || !backend.IsPermanent(err) {
		t.Fatalf("New with a wrong key: %v, want a permanent ErrUnauthorized", err)
	}
	_, err = New(t.Context(), Config{AccountID: emu.AccountID, Key: emu.Key, Bucket: "nope", Endpoint: emu.URL})
	if err == nil || !backend.IsPermanent(err) {
		t.Fatalf("New with a missing bucket: %v, want a permanent error", err)
	}
}

// TestRestrictedKey: a key restricted to one bucket finds it from the
// authorization (no b2_list_buckets, which it may not call for others)
// and is refused for another bucket before any file request.
func TestRestrictedKey(t *testing.T) {
	emu := testutil.StartB2Emulator(t, testutil.B2EmuOptions{Buckets: []string{"bucket", "other"}, RestrictToBucket: "bucket"})
	be := newEmuBackend(t, emu, Config{Prefix: "host"})
	h := backend.Handle{Type: backend.KeyFile, Name: randomName()}
	if err := be.Save(t.Context(), h, backend.NewByteReader([]byte("key"))); err != nil {
		t.Fatal(err)
	}
	if got := emu.Names("bucket"); len(got) != 1 || got[0] != "host/keys/"+h.Name {
		t.Errorf("bucket holds %v", got)
	}
	_, err := New(t.Context(), Config{AccountID: emu.AccountID, Key: emu.Key, Bucket: "other", Endpoint: emu.URL})
	if !errors.Is(err, ErrUnauthorized) || !backend.IsPermanent(err) {
		t.Fatalf("New for another bucket: %v, want a permanent ErrUnauthorized", err)
	}
}

// TestRemoveVersions: B2 keeps a version per upload; a hard Remove
// deletes them all, a soft one leaves a hide marker on top.
func TestRemoveVersions(t *testing.T) {
	for _, hard := range []bool{true, false} {
		emu := testutil.StartB2Emulator(t, testutil.B2EmuOptions{PageSize: 2})
		be := newEmuBackend(t, emu, Config{HardDelete: hard})
		h := backend.Handle{Type: backend.LockFile, Name: randomName()}
		for i := range 5 {
			if err := be.Save(t.Context(), h, backend.NewByteReader(randomBytes(10+i))); err != nil {
				t.Fatal(err)
			}
		}
		// A neighbour whose versions follow ours must survive.
		other := backend.Handle{Type: backend.LockFile, Name: h.Name + "0"}
		if err := be.Save(t.Context(), other, backend.NewByteReader([]byte("x"))); err != nil {
			t.Fatal(err)
		}
		name := "locks/" + h.Name
		if n := len(emu.Versions("bucket", name)); n != 5 {
			t.Fatalf("%d versions after 5 uploads", n)
		}
		if fi, err := be.Stat(t.Context(), h); err != nil || fi.Size != 14 {
			t.Fatalf("Stat = %v, %v; want the newest version's 14 bytes", fi, err)
		}
		if err := be.Remove(t.Context(), h); err != nil {
			t.Fatal(err)
		}
		vs := emu.Versions("bucket", name)
		switch {
		case hard && len(vs) != 0:
			t.Errorf("hard delete left %v", vs)
		case !hard && (len(vs) != 6 || vs[0].Action != "hide"):
			t.Errorf("hide left %v, want a hide marker over 5 versions", vs)
		}
		if _, err := be.Stat(t.Context(), h); !errors.Is(err, backend.ErrNotExist) {
			t.Errorf("Stat after Remove: %v", err)
		}
		if err := be.Remove(t.Context(), h); !errors.Is(err, backend.ErrNotExist) {
			t.Errorf("second Remove: %v, want ErrNotExist", err)
		}
		if _, err := be.Stat(t.Context(), other); err != nil {
			t.Errorf("the neighbour is gone: %v", err)
		}
	}
}

// TestPagination lists more files than fit on a page of the emulator.
func TestPagination(t *testing.T) {
	emu := testutil.StartB2Emulator(t, testutil.B2EmuOptions{PageSize: 3})
	be := newEmuBackend(t, emu, Config{Prefix: "p"})
	want := map[string]int64{}
	for i := range 11 {
		h := backend.Handle{Type: backend.PackFile, Name: randomName()}
		data := randomBytes(i)
		if err := be.Save(t.Context(), h, backend.NewByteReader(data)); err != nil {
			t.Fatal(err)
		}
		want[h.Name] = int64(i)
	}
	got := map[string]int64{}
	if err := be.List(t.Context(), backend.PackFile, func(fi backend.FileInfo) error {
		got[fi.Name] = fi.Size
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d files, want %d", len(got), len(want))
	}
	for n, s := range want {
		if got[n] != s {
			t.Errorf("%s: size %d, want %d", n, got[n], s)
		}
	}
}

// TestLargeFile: a file above the threshold goes up in parts and reads
// back whole and in ranges; a failed one is cancelled.
func TestLargeFile(t *testing.T) {
	emu := testutil.StartB2Emulator(t, testutil.B2EmuOptions{MinPartSize: 100})
	be := newEmuBackend(t, emu, Config{LargeFileThreshold: 1000, PartSize: 400})
	h := backend.Handle{Type: backend.PackFile, Name: randomName()}
	data := randomBytes(2100)
	emu.Inject(testutil.B2Fault500, "b2_upload_part", 1)
	if err := be.Save(t.Context(), h, backend.NewByteReader(data)); err != nil {
		t.Fatal(err)
	}
	got, err := backend.LoadAll(t.Context(), be, h)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("LoadAll: %d bytes, %v", len(got), err)
	}
	if emu.Observed(testutil.B2Fault500) != 1 {
		t.Error("the part fault was not injected")
	}
	// The whole file is checked against the large_file_sha1 it got.
	emu.Inject(testutil.B2FaultCorruptDownload, "", 1)
	if _, err := backend.LoadAll(t.Context(), be, h); err == nil || !strings.Contains(err.Error(), "SHA-1") {
		t.Errorf("corrupted download of a large file: %v, want a SHA-1 mismatch", err)
	}
	bad := &shortReader{ByteReader: backend.NewByteReader(data[:1500]), length: 2100}
	if err := be.Save(t.Context(), backend.Handle{Type: backend.PackFile, Name: randomName()}, bad); err == nil {
		t.Fatal("Save of a short reader succeeded")
	}
	// A part failing for good cancels the large file.
	emu.Inject(testutil.B2FaultCapExceeded, "b2_upload_part", 1)
	if err := be.Save(t.Context(), backend.Handle{Type: backend.PackFile, Name: randomName()}, backend.NewByteReader(data)); !errors.Is(err, ErrCapExceeded) {
		t.Fatalf("Save with a part over the cap: %v", err)
	}
	if n := emu.UnfinishedLargeFiles(); n != 0 {
		t.Errorf("%d unfinished large files left", n)
	}
	checkNoViolations(t, emu)
}

// shortReader claims more bytes than it has.
type shortReader struct {
	*backend.ByteReader
	length int64
}

func (s *shortReader) Length() int64 { return s.length }
