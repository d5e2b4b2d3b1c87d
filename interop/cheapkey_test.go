package interop_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hbackup/hbackup/backend/local"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/repo"
)

// cheapKDF is scrypt at a cost of about a millisecond. Both tools
// calibrate scrypt at init to take a noticeable fraction of a second
// (restic 0.14 chose N=2^15, r=8, p=6 on the CI machine), and every
// command pays it again to open the repository; the interop tests run
// the tools hundreds of times, and most of their time went there.
var cheapKDF = crypto.Params{N: 1 << 10, R: 8, P: 1}

// cheapenKey replaces the key of the freshly initialised local repository
// at dir with one for the same password under cheapKDF. The key file
// format does not depend on the parameters, so what the tests prove is
// unchanged: keys the tests add later keep calibrated parameters, and
// the fixture tests still open keys restic wrote.
func cheapenKey(t testing.TB, dir, password string) {
	t.Helper()
	ctx := context.Background()
	be, err := local.New(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(ctx, be, password, repo.Options{})
	if err != nil {
		t.Fatalf("cheapenKey: %v", err)
	}
	defer r.Close()
	old := r.KeyID()
	if _, err := r.AddKey(ctx, password, cheapKDF, "", ""); err != nil {
		t.Fatalf("cheapenKey: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "keys", old.String())); err != nil {
		t.Fatalf("cheapenKey: %v", err)
	}
}

// resticInit runs restic init with args on r's local repository and
// cheapens its key.
func resticInit(t testing.TB, r *testutil.Restic, args ...string) {
	t.Helper()
	r.Run(t, append([]string{"init"}, args...)...)
	cheapenKey(t, r.Repo, r.Password)
}
