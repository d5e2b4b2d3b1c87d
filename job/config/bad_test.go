package config

import (
	"errors"
	"strings"
	"testing"
)

// base is a valid configuration that each bad case extends.
const base = `
[repositories.nas]
url = "/srv/restic"
password_file = "/etc/hbackup/nas.password"

[repositories.b2]
url = "b2:bucket:nas"
password_file = "/etc/hbackup/b2.password"
`

func TestBadConfigs(t *testing.T) {
	// Line numbers count from the start of base + text; base has 8 lines
	// (a leading empty line), so the case's first line is line 9.
	cases := []struct {
		name, text string
		want       string // the whole message, file name included
	}{
		{"unknown top-level key", `retension = 3`,
			`bad.toml:1:1: retension: unknown key, did you mean "retention"?`},
		{"unknown job key", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nas\"\nexcludes = [\"x\"]",
			`bad.toml:12:1: jobs.a.excludes: unknown key, did you mean "exclude"?`},
		{"wrong type", "[jobs.a]\npaths = \"/a\"\nrepository = \"nas\"",
			`bad.toml:10:9: jobs.a.paths: expected an array, got a string`},
		{"wrong item type", "[jobs.a]\npaths = [\"/a\", 7]\nrepository = \"nas\"",
			`bad.toml:10:16: jobs.a.paths[1]: expected a string, got an integer`},
		{"unknown repository", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nass\"",
			`bad.toml:11:14: jobs.a.repository: unknown repository "nass", did you mean "nas"?`},
		{"unknown repository, no close name", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"usb\"",
			`bad.toml:11:14: jobs.a.repository: unknown repository "usb" (defined: b2, nas)`},
		{"copy_to own repository", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nas\"\ncopy_to = [\"b2\", \"nas\"]",
			`bad.toml:12:18: jobs.a.copy_to[1]: "nas" is the job's own repository; copy_to lists other repositories`},
		{"copy_to unknown", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nas\"\ncopy_to = [\"b3\"]",
			`bad.toml:12:12: jobs.a.copy_to[0]: unknown repository "b3", did you mean "b2"?`},
		{"no paths and no zfs", "[jobs.a]\nrepository = \"nas\"",
			`bad.toml:9:7: jobs.a: nothing to back up: set paths or zfs`},
		{"empty paths", "[jobs.a]\npaths = []\nrepository = \"nas\"",
			`bad.toml:10:1: jobs.a.paths: nothing to back up: paths is empty and zfs is not set`},
		{"relative path", "[jobs.a]\npaths = [\"home\"]\nrepository = \"nas\"",
			`bad.toml:10:10: jobs.a.paths[0]: "home" is not an absolute path`},
		{"bad zfs dataset", "[jobs.a]\nzfs = [\"/tank/data\"]\nrepository = \"nas\"",
			`bad.toml:10:8: jobs.a.zfs[0]: "/tank/data" is not a ZFS dataset name such as "tank/home"`},
		{"no repository and no primary", "[jobs.a]\npaths = [\"/a\"]",
			`bad.toml:9:7: jobs.a: no repository: set repository, or mark one repository primary = true`},
		{"bad duration", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nas\"\nretry_delay = \"5 minutes\"",
			`bad.toml:12:15: jobs.a.retry_delay: invalid duration "5 minutes": use numbers with units such as "30s", "10m", "2h", "7d"`},
		{"bad hook timeout", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nas\"\npre_backup = { command = \"true\", timeout = \"10\" }",
			`bad.toml:12:44: jobs.a.pre_backup.timeout: invalid duration "10": use numbers with units such as "30s", "10m", "2h", "7d"`},
		{"hook without command", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nas\"\n[jobs.a.post_backup]\ntimeout = \"1m\"",
			`bad.toml:12:9: jobs.a.post_backup: missing required key "command"`},
		{"bad size", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nas\"\nresources = { memory = \"2 gigs\" }",
			`bad.toml:12:24: jobs.a.resources.memory: invalid size "2 gigs": use a number and a unit such as "500MiB", "10G" or "2GB"`},
		{"bad schedule", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nas\"\nschedule = \"Mon..Fry 03:00\"",
			`bad.toml:12:12: jobs.a.schedule: invalid calendar event "Mon..Fry 03:00": unknown weekday "Fry"`},
		{"schedule typo", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nas\"\nschedule = \"dayly\"",
			`bad.toml:12:12: jobs.a.schedule: invalid calendar event "dayly": unknown shorthand or weekday "dayly" (shorthands: minutely, hourly, daily, weekly, monthly, quarterly, semiannually, yearly)`},
		{"schedule hour out of range", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nas\"\nschedule = \"*-*-* 25:00\"",
			`bad.toml:12:12: jobs.a.schedule: invalid calendar event "*-*-* 25:00": hour 25 is out of range 0..23`},
		{"io priority out of range", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nas\"\n[jobs.a.resources]\nio_class = \"best-effort\"\nio_priority = 8",
			`bad.toml:14:15: jobs.a.resources.io_priority: 8 is out of range [0, 7]`},
		{"io priority with idle", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nas\"\n[jobs.a.resources]\nio_class = \"idle\"\nio_priority = 2",
			`bad.toml:14:15: jobs.a.resources.io_priority: io_priority needs io_class = "best-effort" or "realtime"`},
		{"unknown io class", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nas\"\nresources = { io_class = \"besteffort\" }",
			`bad.toml:12:26: jobs.a.resources.io_class: unknown io_class "besteffort" (want idle, best-effort or realtime), did you mean "best-effort"?`},
		{"ntfy priority out of range", "[monitoring.ntfy]\nurl = \"https://ntfy.sh/t\"\npriority = { failure = 6 }",
			`bad.toml:11:24: monitoring.ntfy.priority.failure: priority 6 is out of range [1, 5]`},
		{"ntfy url without topic", "[monitoring.ntfy]\nurl = \"https://ntfy.sh/\"",
			`bad.toml:10:7: monitoring.ntfy.url: "https://ntfy.sh/" names no topic; use e.g. "https://ntfy.sh/my-backups"`},
		{"ntfy token and username", "[monitoring.ntfy]\nurl = \"https://ntfy.sh/t\"\ntoken = \"tk\"\nusername = \"u\"\npassword = \"p\"",
			`bad.toml:12:1: monitoring.ntfy.username: token and username cannot both be set`},
		{"bad regex", "[[monitoring.error_analysis.rules]]\npattern = \"disk (full\"\ncategory = \"storage\"",
			"bad.toml:10:11: monitoring.error_analysis.rules[0].pattern: bad regular expression: error parsing regexp: missing closing ): `disk (full`"},
		{"bad severity", "[[monitoring.error_analysis.rules]]\npattern = \"x\"\ncategory = \"storage\"\nseverity = \"critcal\"",
			`bad.toml:12:12: monitoring.error_analysis.rules[0].severity: unknown severity "critcal" (want info, warning, error or critical), did you mean "critical"?`},
		{"relative password_file", "[repositories.usb]\nurl = \"/mnt/usb\"\npassword_file = \"usb.password\"",
			`bad.toml:11:17: repositories.usb.password_file: "usb.password" is not an absolute path`},
		{"missing url", "[repositories.usb]\npassword_file = \"/etc/p\"",
			`bad.toml:9:15: repositories.usb: missing required key "url"`},
		{"unsupported backend", "[repositories.s3]\nurl = \"s3:s3.amazonaws.com/bucket\"\npassword_file = \"/etc/p\"",
			`bad.toml:10:7: repositories.s3.url: the s3 backend is not supported yet (hbackup supports local, sftp, rest and b2)`},
		{"relative local repository", "[repositories.usb]\nurl = \"backup/repo\"\npassword_file = \"/etc/p\"",
			`bad.toml:10:7: repositories.usb.url: "backup/repo" is not an absolute path; local repositories need one`},
		{"bad rest url", "[repositories.r]\nurl = \"rest:localhost:8000\"\npassword_file = \"/etc/p\"",
			`bad.toml:10:7: repositories.r.url: "rest:localhost:8000": want rest:http://host:port/path or rest:https://...`},
		{"bad exclude pattern", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nas\"\nexclude = [\"*.tmp\", \"[abc\"]",
			`bad.toml:12:21: jobs.a.exclude[1]: bad exclude pattern "[abc" (unclosed [ or bad escape?)`},
		{"tag with comma", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nas\"\ntags = [\"a,b\"]",
			`bad.toml:12:9: jobs.a.tags[0]: tag "a,b" must be non-empty and without commas`},
		{"two primaries", "[repositories.usb]\nurl = \"/mnt/usb\"\npassword_file = \"/etc/p\"\nprimary = true\n[repositories.usb2]\nurl = \"/mnt/usb2\"\npassword_file = \"/etc/p\"\nprimary = true",
			`bad.toml:16:11: repositories.usb2.primary: repositories "usb" and "usb2" are both primary; mark only one`},
		{"bad job name", "[jobs.\"my job\"]\npaths = [\"/a\"]\nrepository = \"nas\"",
			`bad.toml:9:7: jobs."my job": job name "my job" may contain only letters, digits, '-' and '_'`},
		{"retention keeps nothing", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nas\"\nretention = { daily = 0, weekly = 0, monthly = 0, yearly = 0 }",
			`bad.toml:12:1: jobs.a.retention: keeps no snapshots: forget would delete them all; keep at least one`},
		{"negative retention", "[retention]\ndaily = -2",
			`bad.toml:10:9: retention.daily: -2 is out of range [-1, 2147483647]`},
		{"bad timezone", `timezone = "Europe/Berln"`,
			`bad.toml:1:12: timezone: unknown time zone "Europe/Berln" (use an IANA name such as "Europe/Berlin" or "UTC")`},
		{"bad compression", "[jobs.a]\npaths = [\"/a\"]\nrepository = \"nas\"\ncompression = \"maximum\"",
			`bad.toml:12:15: jobs.a.compression: unknown compression "maximum" (want auto, off, max, fastest or better)`},
		{"bad read_data_subset", "[verification]\nread_data_subset = \"150%\"",
			`bad.toml:10:20: verification.read_data_subset: "150%": want "x%", "n/t" or a size such as "500M"`},
		{"bad uuid", "[monitoring.healthchecks]\nuuid = \"not-a-uuid\"",
			`bad.toml:10:8: monitoring.healthchecks.uuid: "not-a-uuid" is not a UUID such as "5f6e8c1a-9b2d-4c3e-8f7a-1b2c3d4e5f60"`},
		{"bad listen address", "[monitoring.prometheus]\nlisten = \"9436\"",
			`bad.toml:10:10: monitoring.prometheus.listen: "9436" is not a host:port address such as "127.0.0.1:9436"`},
		{"duplicate key", "[jobs.a]\npaths = [\"/a\"]\npaths = [\"/b\"]\nrepository = \"nas\"",
			`bad.toml:11:1: jobs.a.paths: duplicate key, first defined at line 10`},
		{"table defined twice", "[repositories.nas]\nurl = \"/x\"",
			`bad.toml:9:15: repositories.nas: already defined at line 2`},
		{"syntax error", "[jobs.a\npaths = [\"/a\"]",
			`bad.toml:9:8: TOML syntax error: expected ']' to close table name`},
		{"job is not a table", `jobs = ["a"]`,
			`bad.toml:1:9: jobs: expected a table, got an array`},
		{"sample_files zero", "[restore_testing]\nsample_files = 0",
			`bad.toml:10:16: restore_testing.sample_files: 0 is out of range [1, 1000000]`},
		{"unknown outcome", "[monitoring.ntfy]\nurl = \"https://ntfy.sh/t\"\non = [\"failures\"]",
			`bad.toml:11:7: monitoring.ntfy.on[0]: unknown outcome "failures" (want start, success, warning or failure), did you mean "failure"?`},
	}
	seen := map[string]string{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if other, dup := seen[tc.want]; dup {
				t.Fatalf("same message as case %q", other)
			}
			seen[tc.want] = tc.name
			doc := base + tc.text
			if strings.HasPrefix(tc.want, "bad.toml:1:") { // top-level keys go before any table
				doc = tc.text + "\n" + base
			}
			_, err := Parse("bad.toml", []byte(doc))
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("Parse = %v, want Errors", err)
			}
			if len(es) != 1 || es[0].Error() != tc.want {
				t.Errorf("got %d error(s):\n%v\nwant exactly:\n%s", len(es), err, tc.want)
			}
		})
	}
	if len(cases) < 20 {
		t.Fatalf("only %d cases", len(cases))
	}
}

// TestManyErrorsAtOnce checks that decoding goes on after an error, and
// that each problem is reported with its own place, in file order.
func TestManyErrorsAtOnce(t *testing.T) {
	text := `
[jobs.a]
pathz = ["/a"]
repository = "nowhere"
schedule = "noon"

[jobs.b]
paths = ["rel"]
retries = "3"
`
	_, err := Parse("many.toml", []byte(base+text))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Parse = %v, want Errors", err)
	}
	want := []string{
		`many.toml:10:7: jobs.a: nothing to back up: set paths or zfs`,
		`many.toml:11:1: jobs.a.pathz: unknown key, did you mean "paths"?`,
		`many.toml:12:14: jobs.a.repository: unknown repository "nowhere" (defined: b2, nas)`,
		`many.toml:13:12: jobs.a.schedule: invalid calendar event "noon": unknown shorthand or weekday "noon" (shorthands: minutely, hourly, daily, weekly, monthly, quarterly, semiannually, yearly)`,
		`many.toml:15:7: jobs.b: no repository: set repository, or mark one repository primary = true`,
		`many.toml:16:10: jobs.b.paths[0]: "rel" is not an absolute path`,
		`many.toml:17:11: jobs.b.retries: expected an integer, got a string`,
	}
	got := strings.Split(err.Error(), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var one *Error
	if !errors.As(err, &one) || one.Line != 10 || one.Column != 7 || one.Key != "jobs.a" {
		t.Errorf("errors.As(*Error) = %+v", one)
	}
}
