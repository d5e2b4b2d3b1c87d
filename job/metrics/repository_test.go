package metrics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func scrape(t *testing.T, collectors map[string]prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	h, err := Handler(collectors)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

func sampleStats() *RepositoryStats {
	t0 := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	sum := func(files, bytes int64) *Summary {
		return &Summary{BackupStart: t0, BackupEnd: t0.Add(42 * time.Second), FilesNew: 5, FilesChanged: 2,
			FilesUnmodified: 100, DirsNew: 1, DirsChanged: 3, DirsUnmodified: 20, DataAdded: 4096,
			TotalFilesProcessed: files, TotalBytesProcessed: bytes}
	}
	return &RepositoryStats{
		Check: CheckOK, Locks: 1, TotalSize: 1 << 30, UncompressedSize: 3 << 30, CompressionRatio: 3, BlobCount: 5000,
		Snapshots: []SnapshotInfo{
			{ID: "a1", Time: t0.Add(-24 * time.Hour), Hostname: "nas", Username: "root", ProgramVersion: "hbackup 0.1",
				Tags: []string{"home", "daily"}, Paths: []string{"/home", "/etc"}, Summary: sum(100, 1000)},
			{ID: "a2", Time: t0, Hostname: "nas", Username: "root", ProgramVersion: "hbackup 0.1",
				Tags: []string{"home", "daily"}, Paths: []string{"/home", "/etc"}, Summary: sum(107, 5000)},
			{ID: "b1", Time: t0.Add(-time.Hour), Hostname: "laptop", Username: "alice", ProgramVersion: "restic 0.16.4",
				Paths: []string{"/home/alice"}}, // no summary: written by an old restic
		},
	}
}

func TestRepositoryCollector(t *testing.T) {
	c := NewRepositoryCollector(func(context.Context) (*RepositoryStats, error) { return sampleStats(), nil }, RepositoryOptions{})
	if mfs := scrape(t, map[string]prometheus.Collector{"": c}); len(mfs) != 0 {
		t.Errorf("exported %d families before the first Refresh", len(mfs))
	}
	if err := c.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	mfs := scrape(t, map[string]prometheus.Collector{"": c})

	for name, help := range map[string]string{
		"restic_check_success":           "Result of restic check operation in the repository",
		"restic_locks_total":             "Total number of locks in the repository",
		"restic_snapshots_total":         "Total number of snapshots in the repository",
		"restic_backup_timestamp":        "Timestamp of the last backup",
		"restic_backup_files_total":      "Number of files in the backup",
		"restic_backup_size_total":       "Total size of backup in bytes",
		"restic_backup_snapshots_total":  "Total number of snapshots",
		"restic_scrape_duration_seconds": "Amount of time each scrape takes",
	} {
		if mf := mfs[name]; mf == nil || mf.GetHelp() != help || mf.GetType() != dto.MetricType_GAUGE {
			t.Errorf("%s: %v", name, mf)
		}
	}
	for name, want := range map[string]float64{
		"restic_check_success": 1, "restic_locks_total": 1, "restic_snapshots_total": 3,
		"restic_size_total": 1 << 30, "restic_uncompressed_size_total": 3 << 30, "restic_compression_ratio": 3,
		"restic_blob_count_total": 5000,
	} {
		if got := value(t, mfs, name, nil); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}

	nas := map[string]string{"client_hostname": "nas", "client_username": "root", "client_version": "hbackup 0.1",
		"snapshot_tag": "home", "snapshot_tags": "home,daily", "snapshot_paths": "",
		// printf 'nasroot/home,/etc' | sha256sum
		"snapshot_hash": "fbcd5cbd7cbf8cb0ff6c33d5cb55a0209bebafd040cdd90d046ae2b6cce5f9ff"}
	for name, want := range map[string]float64{
		"restic_backup_timestamp":        float64(time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC).Unix()), // the latest of the two
		"restic_backup_snapshots_total":  2,
		"restic_backup_files_total":      107,
		"restic_backup_size_total":       5000,
		"restic_backup_files_new":        5,
		"restic_backup_files_changed":    2,
		"restic_backup_files_unmodified": 100,
		"restic_backup_dirs_new":         1,
		"restic_backup_dirs_changed":     3,
		"restic_backup_dirs_unmodified":  20,
		"restic_backup_data_added_bytes": 4096,
		"restic_backup_duration_seconds": 42,
	} {
		if got := value(t, mfs, name, nas); got != want {
			t.Errorf("%s{nas} = %v, want %v", name, got, want)
		}
	}
	laptop := map[string]string{"client_hostname": "laptop", "client_username": "alice", "snapshot_tag": "", "snapshot_tags": ""}
	for name, want := range map[string]float64{
		"restic_backup_snapshots_total": 1, "restic_backup_files_total": -1, "restic_backup_duration_seconds": -1,
	} {
		if got := value(t, mfs, name, laptop); got != want {
			t.Errorf("%s{laptop} = %v, want %v", name, got, want)
		}
	}
	if n := len(mfs["restic_backup_timestamp"].GetMetric()); n != 2 {
		t.Errorf("%d clients, want 2", n)
	}
}

func TestRepositoryCollectorPathsAndLabels(t *testing.T) {
	read := func(context.Context) (*RepositoryStats, error) { return sampleStats(), nil }
	a := NewRepositoryCollector(read, RepositoryOptions{IncludePaths: true})
	b := NewRepositoryCollector(read, RepositoryOptions{})
	for _, c := range []*RepositoryCollector{a, b} {
		if err := c.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mfs := scrape(t, map[string]prometheus.Collector{"nas": a, "b2": b})
	if got := value(t, mfs, "restic_snapshots_total", map[string]string{"repository": "nas"}); got != 3 {
		t.Errorf("nas snapshots %v", got)
	}
	if got := value(t, mfs, "restic_backup_files_total", map[string]string{"repository": "nas", "client_hostname": "nas", "snapshot_paths": "/home,/etc"}); got != 107 {
		t.Errorf("with paths: %v", got)
	}
	if got := value(t, mfs, "restic_backup_files_total", map[string]string{"repository": "b2", "client_hostname": "nas", "snapshot_paths": ""}); got != 107 {
		t.Errorf("without paths: %v", got)
	}
}

func TestRepositoryRefreshErrorKeepsValues(t *testing.T) {
	fail := false
	boom := errors.New("dial tcp: connection refused")
	c := NewRepositoryCollector(func(context.Context) (*RepositoryStats, error) {
		if fail {
			return nil, boom
		}
		return sampleStats(), nil
	}, RepositoryOptions{})
	if err := c.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	fail = true
	if err := c.Refresh(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Refresh = %v, want it to wrap the read error", err)
	}
	if got := value(t, scrape(t, map[string]prometheus.Collector{"": c}), "restic_snapshots_total", nil); got != 3 {
		t.Errorf("snapshots %v after a failed refresh", got)
	}
}
