package metrics_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hbackup/hbackup/job/errclass"
	"github.com/hbackup/hbackup/job/metrics"
)

func ExampleTextfile_RecordBackup() {
	dir, err := os.MkdirTemp("", "textfile")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	tf := metrics.Textfile{Dir: dir}
	start := time.Unix(1_800_000_000, 0)
	err = tf.RecordBackup(context.Background(), metrics.Backup{
		Labels: metrics.Labels{Job: "home", Repository: "nas", Hostname: "host1"},
		Start:  start, End: start.Add(90 * time.Second), Status: metrics.Failure,
		Errors: []errclass.Result{{Category: errclass.Network, Severity: errclass.Warning}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	data, _ := os.ReadFile(tf.Path("home"))
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "backup_errors_by_category_total") || strings.HasPrefix(line, "restic_backup_status") {
			fmt.Println(line)
		}
	}
	// Output:
	// backup_errors_by_category_total{category="network",hostname="host1",job="home",repository="nas"} 1
	// restic_backup_status{hostname="host1",job="home",repository="nas"} 0
}
