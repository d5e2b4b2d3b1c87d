package config_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/hbackup/hbackup/job/config"
)

func ExampleParse() {
	c, err := config.Parse("hbackup.toml", []byte(`
timezone = "UTC"

[repositories.nas]
url = "sftp:backup@nas:/srv/restic"
password_file = "/etc/hbackup/nas.password"

[jobs.home]
paths = ["/home"]
schedule = "daily"
retention = { daily = 30 }
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	home := c.Jobs["home"]
	fmt.Println(home.Repository, home.Retention.Daily, home.Retention.Weekly)
	fmt.Println(home.Schedule.Next(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)))
	// Output:
	// nas 30 8
	// 2026-05-02 00:00:00 +0000 UTC
}

func ExampleErrors() {
	_, err := config.Parse("hbackup.toml", []byte(`
[repositories.nas]
url = "/srv/restic"
password_file = "nas.password"

[jobs.home]
paths = ["/home"]
repository = "nsa"
`))
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Println(e)
		}
	}
	// Output:
	// hbackup.toml:4:17: repositories.nas.password_file: "nas.password" is not an absolute path
	// hbackup.toml:8:14: jobs.home.repository: unknown repository "nsa", did you mean "nas"?
}
