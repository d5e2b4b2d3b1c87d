package mem

import (
	"bytes"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/backendtest"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(*testing.T) backend.Backend { return New() })
}

// The backend keeps its own copy: changing the saved slice afterwards
// must not change the file.
func TestSaveCopies(t *testing.T) {
	be := New()
	h := backend.Handle{Type: backend.PackFile, Name: "abcd"}
	data := []byte("original")
	if err := be.Save(t.Context(), h, backend.NewByteReader(data)); err != nil {
		t.Fatal(err)
	}
	data[0] = 'X'
	got, err := backend.LoadAll(t.Context(), be, h)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte("original")) {
		t.Errorf("stored file changed with the caller's slice: %q", got)
	}
	got[0] = 'Y'
	if again, _ := backend.LoadAll(t.Context(), be, h); !bytes.Equal(again, []byte("original")) {
		t.Errorf("stored file changed with a loaded slice: %q", again)
	}
}

// The name of a config handle is ignored, as the Handle docs say.
func TestConfigNameIgnored(t *testing.T) {
	be := New()
	if err := be.Save(t.Context(), backend.Handle{Type: backend.ConfigFile, Name: "x"}, backend.NewByteReader([]byte("cfg"))); err != nil {
		t.Fatal(err)
	}
	fi, err := be.Stat(t.Context(), backend.Handle{Type: backend.ConfigFile})
	if err != nil || fi.Size != 3 {
		t.Errorf("Stat(config) = %v, %v; want size 3", fi, err)
	}
}
