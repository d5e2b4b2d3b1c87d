package upload

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"

	"github.com/hbackup/hbackup/backend"
)

func TestBody(t *testing.T) {
	for _, c := range []struct {
		name      string
		src       io.Reader
		length    int64
		checkEnd  bool
		want      string // what the transport gets before the error
		wantErr   error  // nil: io.EOF after want
		permanent bool
	}{
		{"exact", strings.NewReader("hello"), 5, true, "hello", nil, false},
		{"exact, small reads", iotest.OneByteReader(strings.NewReader("hello")), 5, true, "hello", nil, false},
		{"short", strings.NewReader("hel"), 5, true, "hel", io.ErrUnexpectedEOF, true},
		{"long", strings.NewReader("hello!"), 5, true, "", nil, true},
		{"long, a part of it", strings.NewReader("hello!"), 5, false, "hello", nil, false},
		{"empty", strings.NewReader(""), 0, true, "", nil, false},
		{"empty but long", strings.NewReader("x"), 0, true, "", nil, true},
		{"source fails", io.MultiReader(strings.NewReader("he"), iotest.ErrReader(syscall.EIO)), 5, true, "he", syscall.EIO, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := sha1.New()
			b := NewBody(c.src, c.length, c.checkEnd, h)
			got, err := io.ReadAll(b)
			switch {
			case c.permanent && !backend.IsPermanent(err):
				t.Errorf("error %v, want a permanent one", err)
			case !c.permanent && c.wantErr == nil && err != nil:
				t.Errorf("error %v", err)
			case c.wantErr != nil && !errors.Is(err, c.wantErr):
				t.Errorf("error %v, want %v", err, c.wantErr)
			}
			if c.permanent && c.wantErr == nil {
				// Too long: the transport must not get the last bytes.
				if int64(len(got)) >= c.length && c.length > 0 {
					t.Errorf("got all %d bytes of a too-long source", len(got))
				}
			} else if string(got) != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
			if err == nil && !bytes.Equal(h.Sum(nil), sha1Of(got)) {
				t.Error("tee did not see exactly the bytes sent")
			}
			if derr := b.Detach(); (err == nil) != (derr == nil) {
				t.Errorf("Detach: %v, after reading ended with %v", derr, err)
			}
		})
	}
}

func sha1Of(b []byte) []byte { s := sha1.Sum(b); return s[:] }

// After Detach (or the transport's Close) the body gives nothing more,
// so the source may be rewound for a retry.
func TestBodyDetach(t *testing.T) {
	for _, stop := range []func(*Body) error{(*Body).Detach, (*Body).Close} {
		b := NewBody(strings.NewReader("hello"), 5, true, nil)
		var one [2]byte
		if n, err := b.Read(one[:]); n != 2 || err != nil {
			t.Fatalf("Read = %d, %v", n, err)
		}
		if err := stop(b); err != nil {
			t.Fatal(err)
		}
		if !b.Detached() {
			t.Error("not detached")
		}
		if _, err := b.Read(one[:]); !errors.Is(err, ErrDetached) {
			t.Errorf("Read after detach: %v, want ErrDetached", err)
		}
	}
}

// An empty upload sends no body, so CheckEmpty does the length check.
func TestBodyCheckEmpty(t *testing.T) {
	if err := NewBody(strings.NewReader(""), 0, true, nil).CheckEmpty(); err != nil {
		t.Errorf("empty source: %v", err)
	}
	if err := NewBody(strings.NewReader("x"), 0, true, nil).CheckEmpty(); !backend.IsPermanent(err) {
		t.Errorf("non-empty source: %v, want a permanent error", err)
	}
}
