package b2

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/retry"
	"github.com/hbackup/hbackup/internal/testutil"
)

// TestFaultKinds injects each fault once and checks the operation
// succeeds and the fault really happened. raw says whether the backend
// copes on its own (B2's retry rules) or needs the retry decorator.
func TestFaultKinds(t *testing.T) {
	for _, tc := range []struct {
		name     string
		kind     testutil.B2FaultKind
		op       string
		raw      bool
		minDelay time.Duration // Retry-After honoured
	}{
		{"503-upload", testutil.B2Fault503, "b2_upload_file", true, time.Second},
		{"503-api", testutil.B2Fault503, "b2_list_file_names", true, time.Second},
		{"429-download", testutil.B2Fault429, "b2_download_file_by_name", true, time.Second},
		{"429-upload", testutil.B2Fault429, "b2_upload_file", true, time.Second},
		{"500-upload", testutil.B2Fault500, "b2_upload_file", true, 0},
		{"expired-account-token", testutil.B2FaultExpireToken, "b2_get_upload_url", true, 0},
		{"expired-download-token", testutil.B2FaultExpireToken, "b2_download_file_by_name", true, 0},
		{"expired-upload-token", testutil.B2FaultExpireToken, "b2_upload_file", true, 0},
		{"dropped-upload", testutil.B2FaultDropConnection, "b2_upload_file", true, 0},
		{"corrupt-upload", testutil.B2FaultCorruptUpload, "b2_upload_file", true, 0},
		{"dropped-download", testutil.B2FaultDropConnection, "b2_download_file_by_name", false, 0},
		{"truncated-download", testutil.B2FaultTruncateDownload, "b2_download_file_by_name", false, 0},
		{"corrupt-download", testutil.B2FaultCorruptDownload, "b2_download_file_by_name", false, 0},
		{"500-list", testutil.B2Fault500, "b2_list_file_names", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu := testutil.StartB2Emulator(t, testutil.B2EmuOptions{})
			raw := newEmuBackend(t, emu, Config{HardDelete: true})
			var be backend.Backend = raw
			if !tc.raw {
				be = fastRetry(raw)
			}
			h := backend.Handle{Type: backend.SnapshotFile, Name: randomName()}
			data := randomBytes(5000)
			if tc.op != "b2_upload_file" && tc.op != "b2_get_upload_url" {
				if err := be.Save(t.Context(), h, backend.NewByteReader(data)); err != nil {
					t.Fatal(err)
				}
			}
			emu.Inject(tc.kind, tc.op, 1)
			start := time.Now()
			if tc.op == "b2_upload_file" || tc.op == "b2_get_upload_url" {
				if err := be.Save(t.Context(), h, backend.NewByteReader(data)); err != nil {
					t.Fatalf("Save: %v", err)
				}
			}
			if tc.op == "b2_list_file_names" {
				if _, err := be.Stat(t.Context(), h); err != nil {
					t.Fatalf("Stat: %v", err)
				}
			}
			got, err := backend.LoadAll(t.Context(), be, h)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("LoadAll: %d bytes, %v", len(got), err)
			}
			if d := time.Since(start); d < tc.minDelay {
				t.Errorf("done after %v: Retry-After (%v) not honoured", d, tc.minDelay)
			}
			if n := emu.Observed(tc.kind); n != 1 {
				t.Errorf("fault observed %d times, want 1", n)
			}
			checkNoViolations(t, emu)
		})
	}
}

// TestDownloadFaultsNeedRetry: without the decorator a broken or
// corrupted download is a transient error (so the decorator retries
// it), never a permanent one or silently wrong data.
func TestDownloadFaultsNeedRetry(t *testing.T) {
	emu := testutil.StartB2Emulator(t, testutil.B2EmuOptions{})
	be := newEmuBackend(t, emu, Config{})
	h := backend.Handle{Type: backend.IndexFile, Name: randomName()}
	if err := be.Save(t.Context(), h, backend.NewByteReader(randomBytes(4000))); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []testutil.B2FaultKind{testutil.B2FaultTruncateDownload, testutil.B2FaultDropConnection, testutil.B2FaultCorruptDownload} {
		emu.Inject(kind, "b2_download_file_by_name", 1)
		_, err := backend.LoadAll(t.Context(), be, h)
		if err == nil || backend.IsPermanent(err) || !retry.Transient(t.Context(), err) {
			t.Errorf("%v: LoadAll = %v, want a transient error", kind, err)
		}
		if kind == testutil.B2FaultTruncateDownload && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("truncated download: %v, want io.ErrUnexpectedEOF", err)
		}
		if kind == testutil.B2FaultCorruptDownload && (err == nil || !strings.Contains(err.Error(), "SHA-1")) {
			t.Errorf("corrupt download: %v, want a SHA-1 mismatch", err)
		}
	}
}

// TestExpiredTokens: after every token expired (B2's 24 hours), all
// operations renew them on their own.
func TestExpiredTokens(t *testing.T) {
	emu := testutil.StartB2Emulator(t, testutil.B2EmuOptions{})
	be := newEmuBackend(t, emu, Config{HardDelete: true})
	h := backend.Handle{Type: backend.KeyFile, Name: randomName()}
	if err := be.Save(t.Context(), h, backend.NewByteReader([]byte("one"))); err != nil {
		t.Fatal(err)
	}
	emu.ExpireTokens()
	if err := be.Save(t.Context(), h, backend.NewByteReader([]byte("two"))); err != nil {
		t.Fatalf("Save with expired tokens: %v", err)
	}
	emu.ExpireTokens()
	if got, err := backend.LoadAll(t.Context(), be, h); err != nil || string(got) != "two" {
		t.Fatalf("LoadAll with expired tokens: %q, %v", got, err)
	}
	emu.ExpireTokens()
	if err := be.Remove(t.Context(), h); err != nil {
		t.Fatalf("Remove with expired tokens: %v", err)
	}
	checkNoViolations(t, emu)
}

// TestCapExceeded: an exceeded cap is permanent, so the retry decorator
// gives up at once instead of hammering the account.
func TestCapExceeded(t *testing.T) {
	emu := testutil.StartB2Emulator(t, testutil.B2EmuOptions{})
	be := fastRetry(newEmuBackend(t, emu, Config{}))
	emu.Inject(testutil.B2FaultCapExceeded, "b2_list_file_names", 1)
	_, err := be.Stat(t.Context(), backend.Handle{Type: backend.ConfigFile})
	if !errors.Is(err, ErrCapExceeded) || !backend.IsPermanent(err) {
		t.Fatalf("Stat = %v, want a permanent ErrCapExceeded", err)
	}
	if n := emu.Observed(testutil.B2FaultCapExceeded); n != 1 {
		t.Errorf("cap fault observed %d times, want 1", n)
	}
}
