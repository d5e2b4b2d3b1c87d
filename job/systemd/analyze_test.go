package systemd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requireAnalyze returns systemd-analyze's path or skips, or fails under
// HBACKUP_REQUIRE_INTEGRATION=1.
func requireAnalyze(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("HBACKUP_REQUIRE_INTEGRATION") == "1" {
			t.Fatal("systemd-analyze is not installed (apt-get install systemd)")
		}
		t.Skip("systemd-analyze is not installed; install the systemd package to check the units")
	}
	return p
}

// TestSystemdAcceptsUnits has systemd itself parse every generated unit
// and calendar expression.
func TestSystemdAcceptsUnits(t *testing.T) {
	analyze := requireAnalyze(t)
	self, err := os.Executable() // ExecStart must name an executable file
	if err != nil {
		t.Fatal(err)
	}
	// A path with a space and a config path with specifier and variable
	// characters prove the quoting.
	dir := t.TempDir()
	exe := filepath.Join(dir, "my tools", "hbackup")
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, exe); err != nil {
		t.Fatal(err)
	}
	o := Options{Executable: exe, ConfigFile: "/etc/50%/$HOME x.toml", RandomizedDelay: time.Minute}
	units, err := Units(load(t, "../../examples/hbackup.toml"), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(context.Background(), dir, units); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, u := range units {
		if !u.IsTimer() {
			continue
		}
		for _, line := range strings.Split(u.Text, "\n") {
			if cal, ok := strings.CutPrefix(line, "OnCalendar="); ok {
				out, err := exec.CommandContext(ctx, analyze, "calendar", cal).CombinedOutput()
				if err != nil {
					t.Errorf("systemd-analyze calendar %q: %v\n%s", cal, err, out)
				}
			}
		}
	}
	var paths []string
	for _, u := range units {
		paths = append(paths, filepath.Join(dir, u.Name))
	}
	cmd := exec.CommandContext(ctx, analyze, append([]string{"verify"}, paths...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// verify warns about ignored settings without failing.
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, dir) {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
}
