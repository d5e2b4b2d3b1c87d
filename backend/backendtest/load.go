package backendtest

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/hbackup/hbackup/backend"
)

// testPartialLoad loads ranges of a 1000-byte file: from the start, in
// the middle, up to the end, and empty at the very end.
func (s suite) testPartialLoad(t *testing.T) {
	be := s.open(t)
	data := randomBytes(1000)
	for _, ft := range []backend.FileType{backend.PackFile, backend.IndexFile} {
		h := newHandle(ft)
		save(t, be, h, data)
		for _, r := range []struct {
			length int
			offset int64
		}{
			{0, 0}, {1000, 0}, {10, 0}, {1, 0},
			{100, 450}, {0, 500}, {100, 900}, {1, 999}, {0, 999},
			{0, 1000}, // at the end: an empty reader, not an error
		} {
			want := data[r.offset:]
			if r.length > 0 {
				want = want[:r.length]
			}
			got, err := loadRange(t, be, h, r.length, r.offset)
			if err != nil {
				t.Errorf("Load(%v, length %d, offset %d): %v", h, r.length, r.offset, err)
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Load(%v, length %d, offset %d) returned %d bytes, want %d matching ones",
					h, r.length, r.offset, len(got), len(want))
			}
		}
	}
}

// testLoadPastEnd: a range the file does not fully hold is an error, and
// not a "does not exist" one, since the file is there.
func (s suite) testLoadPastEnd(t *testing.T) {
	be := s.open(t)
	h := newHandle(backend.PackFile)
	save(t, be, h, randomBytes(1000))
	for _, r := range []struct {
		length int
		offset int64
	}{
		{1001, 0}, {1, 1000}, {10, 995}, {0, 1001}, {2000, 0}, {1, 5000},
		{-1, 0}, {0, -1}, // invalid
	} {
		_, err := loadRange(t, be, h, r.length, r.offset)
		if err == nil {
			t.Errorf("Load(%v, length %d, offset %d) of a 1000-byte file succeeded", h, r.length, r.offset)
			continue
		}
		if errors.Is(err, backend.ErrNotExist) {
			t.Errorf("Load(%v, length %d, offset %d): %v matches ErrNotExist, but the file exists", h, r.length, r.offset, err)
		}
		if (r.length < 0 || r.offset < 0) && !backend.IsPermanent(err) {
			t.Errorf("Load(%v, length %d, offset %d): %v is not permanent, so a retry would ask again", h, r.length, r.offset, err)
		}
	}
}

// testLoadTwice: each Load starts afresh, whatever an earlier fn read;
// this is what lets callers retry.
func (s suite) testLoadTwice(t *testing.T) {
	be := s.open(t)
	h := newHandle(backend.PackFile)
	data := randomBytes(5000)
	save(t, be, h, data)

	var got []byte
	fn := func(rd io.Reader) error {
		got = got[:0] // a retried fn must not keep state
		buf, err := io.ReadAll(rd)
		got = append(got, buf...)
		return err
	}
	for i := range 2 {
		if err := be.Load(t.Context(), h, 0, 0, fn); err != nil {
			t.Fatalf("Load #%d: %v", i+1, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("Load #%d returned %d bytes, not the file", i+1, len(got))
		}
	}

	// An fn that stops early must not shift the next Load.
	err := be.Load(t.Context(), h, 100, 50, func(rd io.Reader) error {
		_, err := io.ReadFull(rd, make([]byte, 10))
		return err
	})
	if err != nil {
		t.Fatalf("Load reading part of the range: %v", err)
	}
	if got, err := loadRange(t, be, h, 100, 50); err != nil || !bytes.Equal(got, data[50:150]) {
		t.Errorf("Load after a partial read = %d bytes, %v; want bytes 50-150 of the file", len(got), err)
	}
}

// testLoadCallbackError: fn's error comes back out of Load.
func (s suite) testLoadCallbackError(t *testing.T) {
	be := s.open(t)
	h := newHandle(backend.IndexFile)
	save(t, be, h, randomBytes(100))
	errFn := errors.New("error from fn")
	err := be.Load(t.Context(), h, 0, 0, func(io.Reader) error { return errFn })
	if !errors.Is(err, errFn) {
		t.Errorf("Load with a failing fn returned %v, want fn's error", err)
	}
}
