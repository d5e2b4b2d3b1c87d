package job_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hbackup/hbackup/job"
	"github.com/hbackup/hbackup/job/config"
)

// A runner needs the configuration and an executor: in production the
// hbackup executable itself (job.Binary{Path: os.Executable()}).
// Due tells which scheduled jobs should run now; Run runs them.
func Example() {
	dir, _ := os.MkdirTemp("", "hbackup-example-")
	defer os.RemoveAll(dir)
	cfg, err := config.Parse("hbackup.toml", []byte(`
[repositories.nas]
url = "sftp:nas:backups/host"
password_file = "/etc/hbackup/nas.password"
[jobs.home]
paths = ["/home"]
schedule = "daily"
[jobs.scratch]
paths = ["/srv/scratch"]
[monitoring]
log_dir = "`+filepath.Join(dir, "log")+`"
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	r := &job.Runner{
		Config: cfg,
		Exec:   job.Binary{Path: "/usr/bin/hbackup"},
		Now:    func() time.Time { return time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC) },
	}
	due, err := r.Due(context.Background())
	// r.Run(ctx, due) would run them.
	fmt.Println(due, err)
	// Output: [home] <nil>
}
