package job_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// request is what a test HTTP server received.
type request struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
}

// receiver records every request it gets.
type receiver struct {
	mu   sync.Mutex
	reqs []request
	srv  *httptest.Server
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, request{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(b)})
		rc.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...)
}

// runCLI runs `hbackup run` with a config file and returns its exit code.
func runCLI(t *testing.T, cfgPath string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(hbackupBin, append([]string{"run", "--config", cfgPath}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, out.String()
}

func parseMetrics(t *testing.T, path string) map[string]*model.Sample {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	out := map[string]*model.Sample{}
	for name, fam := range fams {
		for _, m := range fam.GetMetric() {
			key := name
			for _, l := range m.GetLabel() {
				if l.GetName() == "category" || l.GetName() == "severity" || l.GetName() == "status" {
					key += "{" + l.GetName() + "=" + l.GetValue() + "}"
				}
			}
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			out[key] = &model.Sample{Value: model.SampleValue(v)}
		}
	}
	return out
}

func readEvents(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%s: bad line %q: %v", path, line, err)
		}
		out = append(out, e)
	}
	return out
}

// `hbackup run` from a config file: a good job and a job whose repository
// is missing. Notifications reach ntfy and Healthchecks servers, metrics
// and logs record both outcomes, and the exit code says a job failed.
func TestRunReportsEverywhere(t *testing.T) {
	e := newEnv(t)
	e.source()
	e.initRepo("primary")
	ntfy := newReceiver(t)
	hc := newReceiver(t)
	cfgText := strings.NewReplacer("$NTFY", ntfy.srv.URL, "$HC", hc.srv.URL, "$DIR", e.dir, "$PW", e.password).Replace(`
hostname = "testhost"
[repositories.primary]
url = "$DIR/primary"
password_file = "$PW"
primary = true
[repositories.gone]
url = "$DIR/does-not-exist"
password_file = "$PW"
[jobs.good]
paths = ["$DIR/src"]
[jobs.good.healthchecks]
uuid = "0e4a2c1b-7d3f-4a5e-9b8c-6f1d2e3a4b5c"
[jobs.bad]
paths = ["$DIR/src"]
repository = "gone"
retries = 0
[monitoring]
log_dir = "$DIR/log"
[monitoring.ntfy]
url = "$NTFY/backups"
token = "tk_secret"
on = ["success", "failure"]
[monitoring.healthchecks]
base_url = "$HC"
[monitoring.prometheus]
textfile_dir = "$DIR/metrics"
`)
	cfgPath := filepath.Join(e.dir, "hbackup.toml")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := runCLI(t, cfgPath, "--all")
	if code != 1 || !strings.Contains(out, "good") || !strings.Contains(out, "bad") {
		t.Fatalf("run: exit %d, want 1 (one job failed)\n%s", code, out)
	}

	// ntfy: one success and one failure message, with priority and token.
	var titles []string
	for _, r := range ntfy.requests() {
		if r.Method != http.MethodPost || r.Path != "/backups" || r.Header.Get("Authorization") != "Bearer tk_secret" {
			t.Errorf("ntfy request %s %s auth %q", r.Method, r.Path, r.Header.Get("Authorization"))
		}
		titles = append(titles, r.Header.Get("Title")+" p"+r.Header.Get("Priority"))
		if strings.Contains(r.Header.Get("Title"), "bad") && !strings.Contains(r.Body, "configuration") {
			t.Errorf("failure notification does not name the category: %q", r.Body)
		}
	}
	if strings.Join(titles, "|") != "hbackup: bad on testhost failed p5|hbackup: good on testhost succeeded p2" {
		t.Errorf("ntfy titles %q", titles)
	}

	// Healthchecks: start then success for the good job only.
	var pings []string
	for _, r := range hc.requests() {
		pings = append(pings, r.Path)
		if !strings.Contains(r.Query, "rid=") {
			t.Errorf("ping %s without a run ID", r.Path)
		}
	}
	if want := "/0e4a2c1b-7d3f-4a5e-9b8c-6f1d2e3a4b5c/start|/0e4a2c1b-7d3f-4a5e-9b8c-6f1d2e3a4b5c"; strings.Join(pings, "|") != want {
		t.Errorf("healthchecks pings %v, want %s", pings, want)
	}
	if reqs := hc.requests(); len(reqs) == 2 && !strings.Contains(reqs[1].Body, "good: success") {
		t.Errorf("success ping body %q lacks the summary", reqs[1].Body)
	}

	// Metrics: status, timestamps and the error counters.
	good := parseMetrics(t, filepath.Join(e.dir, "metrics", "hbackup_good.prom"))
	if good["restic_backup_status"].Value != 1 || good["restic_backup_last_success_timestamp"].Value == 0 || good["restic_backup_files_processed"].Value != 2 {
		t.Errorf("good job metrics: status %v, last success %v, files %v", good["restic_backup_status"].Value,
			good["restic_backup_last_success_timestamp"].Value, good["restic_backup_files_processed"].Value)
	}
	bad := parseMetrics(t, filepath.Join(e.dir, "metrics", "hbackup_bad.prom"))
	if bad["restic_backup_status"].Value != 0 || bad["backup_errors_by_category_total{category=configuration}"] == nil {
		t.Errorf("bad job metrics: %v", bad)
	}

	// Logs: start and end events for both jobs, an error analysis line.
	events := readEvents(t, filepath.Join(e.dir, "log", "backup-jobs.jsonl"))
	var names []string
	for _, ev := range events {
		names = append(names, ev["job"].(string)+":"+ev["event"].(string))
	}
	if strings.Join(names, " ") != "bad:backup_start bad:backup_failure good:backup_start good:backup_success" {
		t.Errorf("events %v", names)
	}
	ea := readEvents(t, filepath.Join(e.dir, "log", "error-analysis.jsonl"))
	if len(ea) != 1 || ea[0]["category"] != "configuration" || ea[0]["job"] != "bad" {
		t.Errorf("error analysis %v", ea)
	}

	// Run again: the metrics counters accumulate.
	runCLI(t, cfgPath, "bad")
	bad = parseMetrics(t, filepath.Join(e.dir, "metrics", "hbackup_bad.prom"))
	if v := bad["backup_errors_by_category_total{category=configuration}"]; v == nil || v.Value != 2 {
		t.Errorf("error counter after two failures: %v, want 2", v)
	}
}
