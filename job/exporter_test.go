package job_test

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// `hbackup exporter` serves restic-exporter's metrics for a repository.
func TestExporter(t *testing.T) {
	e := newEnv(t)
	src := e.source()
	repo := e.initRepo("primary")
	e.hb(repo, "backup", "--host", "h1", "--tag", "t1", src)
	e.hb(repo, "backup", "--host", "h1", "--tag", "t1", src)
	cfgPath := filepath.Join(e.dir, "hbackup.toml")
	cfg := strings.NewReplacer("$DIR", e.dir, "$PW", e.password).Replace(`
[repositories.primary]
url = "$DIR/primary"
password_file = "$PW"
[jobs.x]
paths = ["$DIR/src"]
`)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(hbackupBin, "exporter", "--config", cfgPath, "--listen", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// The exporter names its address once the first refresh is done.
	var url string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if _, after, ok := strings.Cut(sc.Text(), "on http://"); ok {
			url = "http://" + after
			break
		}
	}
	if url == "" {
		t.Fatal("exporter did not say where it listens")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	value := func(name string) float64 {
		f := fams[name]
		if f == nil || len(f.GetMetric()) == 0 {
			t.Fatalf("metric %s missing; have %d families", name, len(fams))
		}
		m := f.GetMetric()[0]
		return m.GetGauge().GetValue() + m.GetCounter().GetValue()
	}
	if v := value("restic_snapshots_total"); v != 2 {
		t.Errorf("restic_snapshots_total %v, want 2", v)
	}
	if v := value("restic_locks_total"); v != 0 {
		t.Errorf("restic_locks_total %v, want 0", v)
	}
	if v := value("restic_check_success"); v != 2 {
		t.Errorf("restic_check_success %v, want 2 (not run)", v)
	}
	ts := value("restic_backup_timestamp")
	if age := time.Since(time.Unix(int64(ts), 0)); age < 0 || age > time.Hour {
		t.Errorf("restic_backup_timestamp %v is not the recent backup", ts)
	}
	var host string
	for _, l := range fams["restic_backup_timestamp"].GetMetric()[0].GetLabel() {
		if l.GetName() == "client_hostname" {
			host = l.GetValue()
		}
	}
	if host != "h1" {
		t.Errorf("client_hostname %q, want h1", host)
	}
	if value("restic_size_total") <= 0 {
		t.Errorf("restic_size_total not positive")
	}
	// From the latest snapshot's summary: the second backup found every
	// file unchanged.
	files := value("restic_backup_files_total")
	if files <= 0 || value("restic_backup_files_unmodified") != files || value("restic_backup_files_new") != 0 {
		t.Errorf("latest summary: files total %v, unmodified %v, new %v; want all unmodified",
			files, value("restic_backup_files_unmodified"), value("restic_backup_files_new"))
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exporter after SIGINT: %v", err)
	}
}
