package backendtest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/backendtest"
	"github.com/hbackup/hbackup/backend/mem"
)

// myBackend stands in for your own backend. It embeds a mem backend to
// keep the example short; yours would talk to your storage.
type myBackend struct {
	*mem.Backend
}

func (myBackend) Location() string { return "my-storage" }

// newMyBackend is the factory Run calls once per subtest. It must return
// a new, empty backend each time; a disk-based backend would use a
// directory from t.TempDir().
func newMyBackend(t *testing.T) backend.Backend {
	return myBackend{mem.New()}
}

// TestMyBackend is all a backend's tests need to run the suite: one call
// to Run, here run for real on myBackend.
func TestMyBackend(t *testing.T) {
	backendtest.Run(t, newMyBackend)
}

// Run needs the *testing.T of a test function, so it is called from
// TestMyBackend above, not from this example. What the example checks is
// the factory's promise that Run relies on: every call gives a backend
// of its own, so a file saved in one subtest is not seen by the next.
func ExampleRun() {
	ctx := context.Background()
	first, second := newMyBackend(nil), newMyBackend(nil)
	h := backend.Handle{Type: backend.LockFile, Name: "cafe"}
	if err := first.Save(ctx, h, backend.NewByteReader([]byte("lock"))); err != nil {
		fmt.Println(err)
		return
	}
	_, err := second.Stat(ctx, h)
	fmt.Println(second.Location(), "is fresh:", errors.Is(err, backend.ErrNotExist))
	// Output: my-storage is fresh: true
}
