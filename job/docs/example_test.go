package docs_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hbackup/hbackup/job/config"
	"github.com/hbackup/hbackup/job/docs"
)

func ExampleRender() {
	c, err := config.Parse("/etc/hbackup/hbackup.toml", []byte(`
hostname = "web1"
timezone = "UTC"

[repositories.main]
url = "rest:https://backup:secret@backup.example.org/web1"
password_file = "/etc/hbackup/main.password"

[jobs.www]
paths = ["/var/www"]
schedule = "daily"
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	var b strings.Builder
	now := func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) }
	if err := docs.Render(context.Background(), &b, c, docs.Options{Now: now}); err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "# Backup") || strings.HasPrefix(line, "| www") || strings.HasPrefix(line, "restic -r") && strings.Contains(line, "--include") {
			fmt.Println(line)
		}
	}
	fmt.Println(docs.RedactURL("rest:https://backup:secret@backup.example.org/web1"))
	// Output:
	// # Backup runbook for web1
	// | www | `/var/www` | main | none | `daily` | Mon 2026-11-23 00:00 UTC |
	// | www | main | 0 | 0 | 14 | 8 | 6 | 2 | yes |
	// restic -r rest:https://backup.example.org/web1 --password-file /etc/hbackup/main.password restore latest --host web1 --path /var/www --target / --include /path/to/file
	// restic -r rest:https://backup.example.org/web1 --password-file /etc/hbackup/main.password restore latest --host web1 --path /var/www --target /tmp/restore --include /path/to/file
	// rest:https://backup:***@backup.example.org/web1
}
