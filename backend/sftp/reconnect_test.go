package sftp

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/internal/testutil"
)

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// killingReader is a RewindReader over data that kills the server's
// sessions once, when after bytes have been read.
type killingReader struct {
	*bytes.Reader
	kill  func()
	after int64
	once  sync.Once
	read  int64
}

func (k *killingReader) Read(p []byte) (int, error) {
	if k.read >= k.after {
		k.once.Do(k.kill)
	}
	n, err := k.Reader.Read(p)
	k.read += int64(n)
	return n, err
}

func (k *killingReader) Rewind() error {
	k.read = 0
	_, err := k.Seek(0, io.SeekStart)
	return err
}

func (k *killingReader) Length() int64 { return k.Size() }

func killer(t *testing.T, s *testutil.SSHD) func() {
	return func() {
		if n := s.KillSessions(t); n == 0 {
			t.Error("KillSessions found no session to kill")
		}
	}
}

func TestReconnectDuringSave(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	be, dir := created(t, s)
	data := randomBytes(t, 8<<20)
	h := backend.Handle{Type: backend.PackFile, Name: "0123456789abcdef"}
	rd := &killingReader{Reader: bytes.NewReader(data), kill: killer(t, s), after: 1 << 20}
	if err := be.Save(t.Context(), h, rd); err != nil {
		t.Fatalf("Save across a killed connection: %v", err)
	}
	got, err := backend.LoadAll(t.Context(), be, h)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("loaded %d bytes, not what was saved", len(got))
	}
	if tmp := tempFiles(t, dir); len(tmp) > 0 {
		t.Errorf("temporary files left behind: %v", tmp)
	}
}

func TestReconnectDuringLoad(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	be, _ := created(t, s)
	data := randomBytes(t, 8<<20)
	h := backend.Handle{Type: backend.PackFile, Name: "fedcba9876543210"}
	save(t, be, h, data)

	calls := 0
	var got []byte
	err := be.Load(t.Context(), h, 0, 0, func(rd io.Reader) error {
		calls++
		if calls == 1 {
			if _, err := io.ReadFull(rd, make([]byte, 1<<20)); err != nil {
				return err
			}
			killer(t, s)()
		}
		var err error
		got, err = io.ReadAll(rd)
		return err
	})
	if err != nil {
		t.Fatalf("Load across a killed connection: %v", err)
	}
	if calls != 2 {
		t.Errorf("fn was called %d times, want 2 (once more after reconnecting)", calls)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("second read returned %d bytes, not the file", len(got))
	}
}

func TestReconnectDuringList(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	be, _ := created(t, s)
	want := make(map[string]bool)
	for i := range 40 {
		h := backend.Handle{Type: backend.PackFile, Name: string(rune('a'+i%6)) + string(rune('a'+i/6)) + "00"}
		save(t, be, h, []byte{byte(i)})
		want[h.Name] = true
	}
	seen := make(map[string]int)
	err := be.List(t.Context(), backend.PackFile, func(fi backend.FileInfo) error {
		seen[fi.Name]++
		if len(seen) == 5 && seen[fi.Name] == 1 {
			killer(t, s)()
			time.Sleep(100 * time.Millisecond) // let the client see the end
		}
		return nil
	})
	if err != nil {
		t.Fatalf("List across a killed connection: %v", err)
	}
	for name := range want {
		if seen[name] != 1 {
			t.Errorf("%s listed %d times, want once", name, seen[name])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("listed %d files, want %d", len(seen), len(want))
	}
}

func TestReconnectWhenIdle(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	be, _ := created(t, s)
	h := backend.Handle{Type: backend.SnapshotFile, Name: "idle"}
	save(t, be, h, []byte("snap"))
	for range 3 {
		killer(t, s)()
		time.Sleep(100 * time.Millisecond)
		if fi, err := be.Stat(t.Context(), h); err != nil || fi.Size != 4 {
			t.Fatalf("Stat after the connection was killed: %v, %v", fi, err)
		}
	}
	if err := be.Remove(t.Context(), h); err != nil {
		t.Fatal(err)
	}
}

func TestServerGone(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	be, _ := created(t, s)
	s.Stop()
	start := time.Now()
	_, err := be.Stat(t.Context(), backend.Handle{Type: backend.ConfigFile})
	if !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("Stat with the server gone: got %v, want ErrConnectionLost", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("giving up took %v", time.Since(start))
	}
	// Later operations fail too, by failing to connect.
	err = be.Save(t.Context(), backend.Handle{Type: backend.LockFile, Name: "l"}, backend.NewByteReader([]byte("x")))
	if err == nil {
		t.Fatal("Save with the server gone succeeded")
	}
}
