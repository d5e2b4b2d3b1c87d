package systemd

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hbackup/hbackup/job/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func load(t *testing.T, path string) *config.Config {
	t.Helper()
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var exampleOptions = Options{Executable: "/usr/local/bin/hbackup", ConfigFile: "/etc/hbackup/hbackup.toml",
	RandomizedDelay: 10 * time.Minute}

func TestUnitsGolden(t *testing.T) {
	units, err := Units(load(t, "testdata/hbackup.toml"), exampleOptions)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range units {
		names = append(names, u.Name)
	}
	want := "hbackup-home.service hbackup-home.timer hbackup-restore-test.service hbackup-restore-test.timer " +
		"hbackup-tank.service hbackup-tank.timer hbackup-verify.service hbackup-verify.timer"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("units:\n got %s\nwant %s", got, want)
	}
	for _, u := range units {
		if !strings.HasPrefix(u.Text, Marker) {
			t.Errorf("%s does not start with the marker", u.Name)
		}
		if !strings.HasPrefix(u.Name, "hbackup-home.") {
			continue
		}
		golden := filepath.Join("testdata", u.Name)
		if *update {
			if err := os.WriteFile(golden, []byte(u.Text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		b, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != u.Text {
			t.Errorf("%s differs from %s (run with -update if intended):\n%s", u.Name, golden, u.Text)
		}
	}
	if got := Timers(units); strings.Join(got, " ") != "hbackup-home.timer hbackup-restore-test.timer hbackup-tank.timer hbackup-verify.timer" {
		t.Errorf("Timers = %v", got)
	}
}

// Every scheduled job of the sample configuration gets a service and a timer.
func TestUnitsOfExample(t *testing.T) {
	c := load(t, "../../examples/hbackup.toml")
	units, err := Units(c, exampleOptions)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]string{}
	for _, u := range units {
		have[u.Name] = u.Text
	}
	for _, name := range c.JobNames() {
		j := c.Jobs[name]
		svc, timer := have["hbackup-"+name+".service"], have["hbackup-"+name+".timer"]
		if j.Schedule == nil {
			if svc != "" || timer != "" {
				t.Errorf("job %s has no schedule but got units", name)
			}
			continue
		}
		if !strings.Contains(svc, "ExecStart=/usr/local/bin/hbackup run --config /etc/hbackup/hbackup.toml "+name+"\n") {
			t.Errorf("service of %s:\n%s", name, svc)
		}
		if !strings.Contains(timer, "OnCalendar="+Calendar(j.Schedule)+"\n") {
			t.Errorf("timer of %s:\n%s", name, timer)
		}
	}
}

func parse(t *testing.T, doc string) *config.Config {
	t.Helper()
	c, err := config.Parse("test.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUnitsDetails(t *testing.T) {
	c := parse(t, `
[repositories.r]
url = "/srv/repo"
password_file = "/etc/pw"
[jobs.a]
paths = ["/a"]
schedule = "hourly"
[jobs.a.resources]
cpus = 0.25
io_class = "idle"
[jobs.manual]
paths = ["/m"]
`)
	units, err := Units(c, Options{Executable: "/opt/my tools/hbackup", ConfigFile: "/etc/50%/$HOME.toml", Timeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 2 {
		t.Fatalf("want only job a's units (manual has no schedule), got %d", len(units))
	}
	svc := units[0].Text
	for _, want := range []string{
		`ExecStart="/opt/my tools/hbackup" run --config /etc/50%%/$$HOME.toml a`,
		`Environment=HBACKUP_CONFIG=/etc/50%%/$HOME.toml`,
		"TimeoutStartSec=infinity\n", "CPUQuota=25%\n", "IOSchedulingClass=idle\n",
	} {
		if !strings.Contains(svc, want) {
			t.Errorf("service lacks %q:\n%s", want, svc)
		}
	}
	for _, bad := range []string{"IOSchedulingPriority", "MemoryMax", "Nice="} {
		if strings.Contains(svc, bad) {
			t.Errorf("service has unset %s:\n%s", bad, svc)
		}
	}
	tm := units[1].Text
	// No timezone in the file: systemd and hbackup both use local time.
	if !strings.Contains(tm, "OnCalendar=hourly\n") || strings.Contains(tm, "RandomizedDelaySec") {
		t.Errorf("timer:\n%s", tm)
	}
}

func TestUnitNameCollision(t *testing.T) {
	c := parse(t, `
[repositories.r]
url = "/srv/repo"
password_file = "/etc/pw"
[jobs.verify]
paths = ["/a"]
schedule = "daily"
[verification]
schedule = "weekly"
`)
	if _, err := Units(c, exampleOptions); err == nil || !strings.Contains(err.Error(), "hbackup-verify") {
		t.Fatalf("want a collision error, got %v", err)
	}
}

func TestProperties(t *testing.T) {
	for _, tc := range []struct {
		r    config.Resources
		want string
	}{
		{config.Resources{}, ""},
		{config.Resources{CPUs: 1.5}, "CPUQuota=150%"},
		{config.Resources{CPUs: 0.001}, "CPUQuota=1%"},
		{config.Resources{Memory: 2 << 30}, "MemoryMax=2G"},
		{config.Resources{Memory: 1536 << 20}, "MemoryMax=1536M"},
		{config.Resources{Memory: 1000}, "MemoryMax=1000"},
		{config.Resources{IOClass: "idle"}, "IOSchedulingClass=idle"},
		{config.Resources{IOClass: "realtime", IOPriority: 0}, "IOSchedulingClass=realtime IOSchedulingPriority=0"},
		{config.Resources{IOClass: "best-effort", IOPriority: 7, Nice: -5}, "IOSchedulingClass=best-effort IOSchedulingPriority=7 Nice=-5"},
	} {
		if got := strings.Join(Properties(tc.r), " "); got != tc.want {
			t.Errorf("Properties(%+v) = %q, want %q", tc.r, got, tc.want)
		}
	}
}

func TestQuoteWord(t *testing.T) {
	for _, tc := range []struct {
		in   string
		exec bool
		want string
	}{
		{"/usr/bin/hbackup", true, "/usr/bin/hbackup"},
		{"a b", true, `"a b"`},
		{`say "hi"\`, true, `"say \"hi\"\\"`},
		{"", true, `""`},
		{"100%$x", true, "100%%$$x"},
		{"100%$x", false, "100%%$x"},
		{"line\nbreak", false, `"line\nbreak"`},
	} {
		if got := quoteWord(tc.in, tc.exec); got != tc.want {
			t.Errorf("quoteWord(%q, %v) = %s, want %s", tc.in, tc.exec, got, tc.want)
		}
	}
}

func TestSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-1: "infinity", 24 * time.Hour: "24h", 90 * time.Minute: "90min", 1500 * time.Millisecond: "2s",
	} {
		if got := span(d); got != want {
			t.Errorf("span(%v) = %s, want %s", d, got, want)
		}
	}
}
