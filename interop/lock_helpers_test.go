package interop_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/repo"
)

// writeDeadLock stores an exclusive lock of a process that does not
// exist, on this host, through hbackup's repository code.
func writeDeadLock(t *testing.T, repoDir string) {
	t.Helper()
	ctx := context.Background()
	r := openRepo(t, repoDir)
	host, _ := os.Hostname()
	data, _ := json.Marshal(repo.LockInfo{Time: time.Now(), Exclusive: true, Hostname: host, Username: "ghost", PID: 1 << 30})
	if _, err := r.SaveUnpacked(ctx, backend.LockFile, data); err != nil {
		t.Fatal(err)
	}
}
