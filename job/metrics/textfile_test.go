package metrics

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hbackup/hbackup/job/errclass"
)

func parseFile(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// value returns the sample of family name whose labels include want.
func value(t *testing.T, mfs map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	mf, ok := mfs[name]
	if !ok {
		t.Fatalf("no family %s", name)
	}
	var found []float64
	for _, m := range mf.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		match := true
		for k, v := range want {
			if got[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.GetGauge() != nil:
			found = append(found, m.GetGauge().GetValue())
		case m.GetCounter() != nil:
			found = append(found, m.GetCounter().GetValue())
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s%v: %d samples, want 1", name, want, len(found))
	}
	return found[0]
}

func TestTextfileAccumulates(t *testing.T) {
	ctx := context.Background()
	tf := Textfile{Dir: t.TempDir()}
	l := Labels{Job: "home", Repository: "nas", Hostname: "host1"}
	start := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	ok := Backup{Labels: l, Start: start, End: start.Add(90 * time.Second), Status: Success,
		BytesAdded: 1000, BytesProcessed: 50000, FilesAdded: 3, FilesProcessed: 120}
	if err := tf.RecordBackup(ctx, ok); err != nil {
		t.Fatal(err)
	}
	netErr := errclass.Result{Category: errclass.Network, Severity: errclass.Warning}
	full := errclass.Result{Category: errclass.Storage, Severity: errclass.Critical}
	failed := Backup{Labels: l, Start: start.Add(24 * time.Hour), End: start.Add(24*time.Hour + 5*time.Second),
		Status: Failure, Errors: []errclass.Result{netErr, netErr, full}}
	if err := tf.RecordBackup(ctx, failed); err != nil {
		t.Fatal(err)
	}
	if err := tf.RecordBackup(ctx, Backup{Labels: l, Start: start, End: start, Status: Failure, Errors: []errclass.Result{netErr}}); err != nil {
		t.Fatal(err)
	}
	if err := tf.RecordVerification(ctx, Check{Labels: l, Time: start, Success: true}); err != nil {
		t.Fatal(err)
	}
	if err := tf.RecordRestoreTest(ctx, Check{Labels: l, Time: start, Success: false,
		Errors: []errclass.Result{{Category: errclass.RepositoryDamage, Severity: errclass.Critical}}}); err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(tf.Dir, "hbackup_home.prom")
	if tf.Path("home") != path {
		t.Errorf("Path = %s", tf.Path("home"))
	}
	mfs := parseFile(t, path)
	lbl := map[string]string{"job": "home", "repository": "nas", "hostname": "host1"}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for a, b := range lbl {
			m[a] = b
		}
		return m
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"restic_backup_status", lbl, 0},
		{"restic_backup_duration_seconds", lbl, 0},
		{"restic_backup_last_success_timestamp", lbl, float64(start.Add(90 * time.Second).Unix())}, // survives the failures
		{"restic_backup_last_run_timestamp", lbl, float64(start.Unix())},
		{"restic_backup_bytes_added", lbl, 0},
		{"backup_errors_by_category_total", with("category", "network"), 3},
		{"backup_errors_by_category_total", with("category", "storage"), 1},
		{"backup_errors_by_category_total", with("category", "repository_damage"), 1},
		{"backup_errors_by_severity_total", with("severity", "warning"), 3},
		{"backup_errors_by_severity_total", with("severity", "critical"), 2},
		{"restic_backup_runs_total", with("status", "success"), 1},
		{"restic_backup_runs_total", with("status", "failure"), 2},
		{"restic_verification_status", lbl, 1},
		{"restic_verification_last_run_timestamp", lbl, float64(start.Unix())},
		{"restic_restore_test_status", lbl, 0},
	} {
		if got := value(t, mfs, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if mfs["backup_errors_by_category_total"].GetType() != dto.MetricType_COUNTER ||
		mfs["restic_backup_status"].GetType() != dto.MetricType_GAUGE {
		t.Error("wrong metric types")
	}
	// Only the .prom file and the lock file remain: no temporary files.
	entries, _ := os.ReadDir(tf.Dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries: %v", len(entries), entries)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v", st.Mode(), err)
	}
}

func TestTextfileSuccessValues(t *testing.T) {
	tf := Textfile{Dir: t.TempDir()}
	l := Labels{Job: "tank", Repository: "b2", Hostname: "nas"}
	start := time.Unix(1_800_000_000, 0)
	b := Backup{Labels: l, Start: start, End: start.Add(1500 * time.Millisecond), Status: Warning,
		BytesAdded: 1 << 20, BytesProcessed: 1 << 30, FilesAdded: 7, FilesProcessed: 9000}
	if err := tf.RecordBackup(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	mfs := parseFile(t, tf.Path("tank"))
	lbl := map[string]string{"job": "tank", "repository": "b2", "hostname": "nas"}
	for name, want := range map[string]float64{
		"restic_backup_status": 2, "restic_backup_duration_seconds": 1.5,
		"restic_backup_last_success_timestamp": 1_800_000_001.5,
		"restic_backup_bytes_added":            1 << 20, "restic_backup_bytes_processed": 1 << 30,
		"restic_backup_files_added": 7, "restic_backup_files_processed": 9000,
	} {
		if got := value(t, mfs, name, lbl); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func TestTextfileConcurrentUpdates(t *testing.T) {
	tf := Textfile{Dir: t.TempDir()}
	l := Labels{Job: "home", Repository: "nas", Hostname: "h"}
	e := errclass.Result{Category: errclass.Lock, Severity: errclass.Warning}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- tf.RecordBackup(context.Background(), Backup{Labels: l, Status: Failure, Errors: []errclass.Result{e}})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	mfs := parseFile(t, tf.Path("home"))
	if got := value(t, mfs, "backup_errors_by_category_total", map[string]string{"category": "lock"}); got != 8 {
		t.Errorf("lost updates: counter = %v, want 8", got)
	}
}

func TestTextfileDamagedPreviousFile(t *testing.T) {
	tf := Textfile{Dir: t.TempDir()}
	if err := os.WriteFile(tf.Path("x"), []byte("this is { not metrics\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := tf.RecordBackup(context.Background(), Backup{Labels: Labels{Job: "x"}, Status: Success}); err != nil {
		t.Fatal(err)
	}
	if got := value(t, parseFile(t, tf.Path("x")), "restic_backup_status", nil); got != 1 {
		t.Errorf("status %v", got)
	}
}

func TestTextfileCancelledWhileLocked(t *testing.T) {
	tf := Textfile{Dir: t.TempDir()}
	release, err := lockFile(context.Background(), filepath.Join(tf.Dir, ".hbackup_x.prom.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tf.RecordBackup(ctx, Backup{Labels: Labels{Job: "x"}}); err == nil {
		t.Fatal("update succeeded while another holder had the lock")
	}
	if _, err := os.Stat(tf.Path("x")); !os.IsNotExist(err) {
		t.Errorf("file written anyway: %v", err)
	}
}

func TestTextfileRead(t *testing.T) {
	tf := Textfile{Dir: t.TempDir()}
	if s, err := tf.Read("none"); err != nil || s != nil {
		t.Fatalf("missing file: %v %v", s, err)
	}
	l := Labels{Job: "home", Repository: "nas", Hostname: "h"}
	if err := tf.RecordBackup(context.Background(), Backup{Labels: l, Status: Warning, FilesAdded: 4}); err != nil {
		t.Fatal(err)
	}
	samples, err := tf.Read("home")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]float64{}
	for i, s := range samples {
		if i > 0 && samples[i-1].Name > s.Name {
			t.Errorf("not sorted: %s before %s", samples[i-1].Name, s.Name)
		}
		if s.Labels["job"] != "home" {
			t.Errorf("%s: labels %v", s.Name, s.Labels)
		}
		found[s.Name] = s.Value
	}
	if found["restic_backup_status"] != 2 || found["restic_backup_files_added"] != 4 || found["restic_backup_runs_total"] != 1 {
		t.Errorf("samples %v", found)
	}
}
