package repo_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo"
)

// flakyConfig is a backend without atomic replace whose config uploads
// fail while fail is set.
type flakyConfig struct {
	backend.Backend
	fail bool
}

func (f *flakyConfig) Properties() backend.Properties {
	p := f.Backend.Properties()
	p.HasAtomicReplace = false
	return p
}

func (f *flakyConfig) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if f.fail && h.Type == backend.ConfigFile {
		f.fail = false // the re-upload of the old config succeeds
		return errors.New("injected upload failure")
	}
	return f.Backend.Save(ctx, h, rd)
}

func TestUpgradeToV2(t *testing.T) {
	ctx := context.Background()
	be := &flakyConfig{Backend: mem.New()}
	r, err := repo.Init(ctx, be, "pw", repo.InitOptions{Version: 1, KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		t.Fatal(err)
	}
	old := r.Config()

	// A failed upload puts the old config back and keeps a copy.
	be.fail = true
	err = r.UpgradeToV2(ctx)
	var ue *repo.UpgradeError
	if !errors.As(err, &ue) || ue.Reupload != nil {
		t.Fatalf("failed upgrade: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(ue.BackupFile)) })
	if data, err := os.ReadFile(ue.BackupFile); err != nil || len(data) == 0 {
		t.Fatalf("backup copy %s: %v", ue.BackupFile, err)
	}
	reopen := func() repo.Config {
		r2, err := repo.Open(ctx, be, "pw", repo.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return r2.Config()
	}
	if got := reopen(); got != old {
		t.Fatalf("config after failed upgrade %+v, want %+v", got, old)
	}

	if err := r.UpgradeToV2(ctx); err != nil {
		t.Fatal(err)
	}
	want := old
	want.Version = 2
	if got := reopen(); got != want {
		t.Fatalf("config after upgrade %+v, want %+v", got, want)
	}
	r3, err := repo.Open(ctx, be, "pw", repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r3.UpgradeToV2(ctx); !errors.Is(err, repo.ErrAlreadyUpgraded) {
		t.Fatalf("second upgrade: %v", err)
	}
}
