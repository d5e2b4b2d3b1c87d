package backendtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/hbackup/hbackup/backend"
)

var errReader = errors.New("backendtest: reader failed")

// failingReader returns the first n bytes of data, then errReader. Its
// Length claims all of data.
type failingReader struct {
	data []byte
	n    int
	pos  int
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.pos >= r.n {
		return 0, errReader
	}
	k := copy(p, r.data[r.pos:r.n])
	r.pos += k
	return k, nil
}

func (r *failingReader) Rewind() error { r.pos = 0; return nil }
func (r *failingReader) Length() int64 { return int64(len(r.data)) }

// lyingReader returns data but claims a different length.
type lyingReader struct {
	*bytes.Reader
	length int64
}

func (r lyingReader) Rewind() error {
	_, err := r.Seek(0, io.SeekStart)
	return err
}
func (r lyingReader) Length() int64 { return r.length }

// testFailedSave: when the reader fails midway, Save returns its error
// and leaves nothing behind; an existing file keeps its content.
func (s suite) testFailedSave(t *testing.T) {
	be := s.open(t)
	for _, ft := range allTypes() {
		h := newHandle(ft)
		rd := &failingReader{data: randomBytes(100_000), n: 50_000}
		err := be.Save(t.Context(), h, rd)
		if !errors.Is(err, errReader) {
			t.Errorf("Save(%v) with a failing reader returned %v, want the reader's error", h, err)
		}
		wantAbsent(t, be, h)
	}
	for _, ft := range backend.AllTypes {
		wantList(t, be, ft, nil)
	}

	h := newHandle(backend.PackFile)
	old := randomBytes(1000)
	save(t, be, h, old)
	if err := be.Save(t.Context(), h, &failingReader{data: randomBytes(2000), n: 1500}); err == nil {
		t.Fatalf("Save(%v) over an existing file with a failing reader succeeded", h)
	}
	if got := loadAll(t, be, h); !bytes.Equal(got, old) {
		t.Errorf("failed Save(%v) changed the existing file (%d bytes now)", h, len(got))
	}
	wantList(t, be, backend.PackFile, map[string]int64{h.Name: 1000})
}

// testWrongLength: a reader returning fewer or more bytes than its
// Length claims (a truncated or changed source) makes Save fail, with
// nothing stored.
func (s suite) testWrongLength(t *testing.T) {
	be := s.open(t)
	for _, claim := range []int64{2000, 500} {
		h := newHandle(backend.PackFile)
		rd := lyingReader{Reader: bytes.NewReader(randomBytes(1000)), length: claim}
		if err := be.Save(t.Context(), h, rd); err == nil {
			t.Errorf("Save of 1000 bytes from a reader claiming %d succeeded", claim)
		}
		wantAbsent(t, be, h)
	}
}

// testCancelledContext: every operation refuses to work under a cancelled
// context and reports context.Canceled.
func (s suite) testCancelledContext(t *testing.T) {
	be := s.open(t)
	h := newHandle(backend.SnapshotFile)
	data := randomBytes(100)
	save(t, be, h, data)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	wantCanceled := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context returned %v, want context.Canceled", op, err)
		}
	}

	fresh := newHandle(backend.SnapshotFile)
	wantCanceled("Save", be.Save(ctx, fresh, backend.NewByteReader(data)))
	wantAbsent(t, be, fresh)

	called := false
	wantCanceled("Load", be.Load(ctx, h, 0, 0, func(io.Reader) error { called = true; return nil }))
	if called {
		t.Errorf("Load with a cancelled context called fn")
	}
	_, err := be.Stat(ctx, h)
	wantCanceled("Stat", err)
	wantCanceled("List", be.List(ctx, backend.SnapshotFile, func(backend.FileInfo) error { return nil }))
	wantCanceled("Remove", be.Remove(ctx, h))
	if got := loadAll(t, be, h); !bytes.Equal(got, data) {
		t.Errorf("file changed by a cancelled Remove")
	}
}

// rewinder is a RewindReader that is not a *backend.ByteReader, so
// backends cannot take a shortcut through Bytes.
type rewinder struct{ *bytes.Reader }

func (r rewinder) Rewind() error {
	_, err := r.Seek(0, io.SeekStart)
	return err
}
func (r rewinder) Length() int64 { return r.Size() }

// testRewindReader: a reader that was read partly and then rewound is
// saved whole.
func (s suite) testRewindReader(t *testing.T) {
	be := s.open(t)
	data := randomBytes(70_000)
	for _, rd := range []backend.RewindReader{
		backend.NewByteReader(data),
		rewinder{bytes.NewReader(data)},
	} {
		if _, err := io.ReadFull(rd, make([]byte, 1234)); err != nil {
			t.Fatalf("reading the start: %v", err)
		}
		if err := rd.Rewind(); err != nil {
			t.Fatalf("Rewind: %v", err)
		}
		h := newHandle(backend.PackFile)
		if err := be.Save(t.Context(), h, rd); err != nil {
			t.Fatalf("Save(%v) of a rewound %T: %v", h, rd, err)
		}
		if got := loadAll(t, be, h); !bytes.Equal(got, data) {
			t.Errorf("Save(%v) of a rewound %T stored %d bytes, not the whole content", h, rd, len(got))
		}
	}
}
