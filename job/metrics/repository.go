package metrics

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// CheckStatus is the value of restic_check_success.
type CheckStatus int

// As in restic-exporter: 2 means the check was not run.
const (
	CheckFailed  CheckStatus = 0
	CheckOK      CheckStatus = 1
	CheckSkipped CheckStatus = 2
)

// RepositoryStats is what a RepositoryCollector publishes. Unknown
// numbers are -1, as restic-exporter reports them.
type RepositoryStats struct {
	Check            CheckStatus
	Locks            int
	TotalSize        int64 // bytes stored ("raw-data" mode)
	UncompressedSize int64
	CompressionRatio float64
	BlobCount        int64
	Snapshots        []SnapshotInfo
}

// SnapshotInfo is one snapshot, as `snapshots --json` describes it.
type SnapshotInfo struct {
	ID             string    `json:"id"`
	Time           time.Time `json:"time"`
	Hostname       string    `json:"hostname"`
	Username       string    `json:"username"`
	ProgramVersion string    `json:"program_version"`
	Tags           []string  `json:"tags"`
	Paths          []string  `json:"paths"`
	Summary        *Summary  `json:"summary"` // nil for snapshots written before restic 0.17
}

// Summary is the backup summary restic 0.17+ stores in a snapshot.
type Summary struct {
	BackupStart         time.Time `json:"backup_start"`
	BackupEnd           time.Time `json:"backup_end"`
	FilesNew            int64     `json:"files_new"`
	FilesChanged        int64     `json:"files_changed"`
	FilesUnmodified     int64     `json:"files_unmodified"`
	DirsNew             int64     `json:"dirs_new"`
	DirsChanged         int64     `json:"dirs_changed"`
	DirsUnmodified      int64     `json:"dirs_unmodified"`
	DataAdded           int64     `json:"data_added"`
	TotalFilesProcessed int64     `json:"total_files_processed"`
	TotalBytesProcessed int64     `json:"total_bytes_processed"`
}

// RepositoryOptions tune a RepositoryCollector. The zero value omits paths.
type RepositoryOptions struct {
	// IncludePaths fills snapshot_paths (restic-exporter's INCLUDE_PATHS);
	// empty otherwise, to keep label cardinality low.
	IncludePaths bool
}

// RepositoryCollector exports restic-exporter's metrics for one
// repository. Reading a remote repository is slow and may cost money, so
// scrapes serve the result of the last Refresh instead of reading it.
type RepositoryCollector struct {
	read func(context.Context) (*RepositoryStats, error)
	opts RepositoryOptions

	mu       sync.Mutex
	stats    *RepositoryStats
	duration time.Duration
}

// NewRepositoryCollector returns a collector whose Refresh calls read.
func NewRepositoryCollector(read func(context.Context) (*RepositoryStats, error), opts RepositoryOptions) *RepositoryCollector {
	return &RepositoryCollector{read: read, opts: opts}
}

// Refresh reads the repository. On error the previous values stay.
func (c *RepositoryCollector) Refresh(ctx context.Context) error {
	start := time.Now()
	st, err := c.read(ctx)
	if err != nil {
		return fmt.Errorf("metrics: reading repository stats: %w", err)
	}
	c.mu.Lock()
	c.stats, c.duration = st, time.Since(start)
	c.mu.Unlock()
	return nil
}

var clientLabels = []string{"client_hostname", "client_username", "client_version",
	"snapshot_hash", "snapshot_tag", "snapshot_tags", "snapshot_paths"}

type repoDesc struct {
	desc  *prometheus.Desc
	value func(*RepositoryStats, time.Duration) float64
}

type clientDesc struct {
	desc  *prometheus.Desc
	value func(*client) float64
}

// Names and help texts are restic-exporter's, so its dashboards and alerts work.
var (
	repoDescs = []repoDesc{
		{prometheus.NewDesc("restic_check_success", "Result of restic check operation in the repository", nil, nil),
			func(s *RepositoryStats, _ time.Duration) float64 { return float64(s.Check) }},
		{prometheus.NewDesc("restic_locks_total", "Total number of locks in the repository", nil, nil),
			func(s *RepositoryStats, _ time.Duration) float64 { return float64(s.Locks) }},
		{prometheus.NewDesc("restic_scrape_duration_seconds", "Amount of time each scrape takes", nil, nil),
			func(_ *RepositoryStats, d time.Duration) float64 { return d.Seconds() }},
		{prometheus.NewDesc("restic_size_total", "Total size of the repository in bytes", nil, nil),
			func(s *RepositoryStats, _ time.Duration) float64 { return float64(s.TotalSize) }},
		{prometheus.NewDesc("restic_uncompressed_size_total", "Total uncompressed size of the repository in bytes", nil, nil),
			func(s *RepositoryStats, _ time.Duration) float64 { return float64(s.UncompressedSize) }},
		{prometheus.NewDesc("restic_compression_ratio", "Compression ratio of the repository", nil, nil),
			func(s *RepositoryStats, _ time.Duration) float64 { return s.CompressionRatio }},
		{prometheus.NewDesc("restic_blob_count_total", "Total number of blobs in the repository", nil, nil),
			func(s *RepositoryStats, _ time.Duration) float64 { return float64(s.BlobCount) }},
		{prometheus.NewDesc("restic_snapshots_total", "Total number of snapshots in the repository", nil, nil),
			func(s *RepositoryStats, _ time.Duration) float64 { return float64(len(s.Snapshots)) }},
	}
	clientDescs = []clientDesc{
		{prometheus.NewDesc("restic_backup_timestamp", "Timestamp of the last backup", clientLabels, nil),
			func(c *client) float64 { return float64(c.latest.Time.Unix()) }},
		{prometheus.NewDesc("restic_backup_snapshots_total", "Total number of snapshots", clientLabels, nil),
			func(c *client) float64 { return float64(c.count) }},
		{prometheus.NewDesc("restic_backup_files_total", "Number of files in the backup", clientLabels, nil),
			func(c *client) float64 { return c.sum(func(s *Summary) int64 { return s.TotalFilesProcessed }) }},
		{prometheus.NewDesc("restic_backup_size_total", "Total size of backup in bytes", clientLabels, nil),
			func(c *client) float64 { return c.sum(func(s *Summary) int64 { return s.TotalBytesProcessed }) }},
		{prometheus.NewDesc("restic_backup_files_new", "Number of new files in the backup", clientLabels, nil),
			func(c *client) float64 { return c.sum(func(s *Summary) int64 { return s.FilesNew }) }},
		{prometheus.NewDesc("restic_backup_files_changed", "Number of changed files in the backup", clientLabels, nil),
			func(c *client) float64 { return c.sum(func(s *Summary) int64 { return s.FilesChanged }) }},
		{prometheus.NewDesc("restic_backup_files_unmodified", "Number of unmodified files in the backup", clientLabels, nil),
			func(c *client) float64 { return c.sum(func(s *Summary) int64 { return s.FilesUnmodified }) }},
		{prometheus.NewDesc("restic_backup_dirs_new", "Number of new directories in the backup", clientLabels, nil),
			func(c *client) float64 { return c.sum(func(s *Summary) int64 { return s.DirsNew }) }},
		{prometheus.NewDesc("restic_backup_dirs_changed", "Number of changed directories in the backup", clientLabels, nil),
			func(c *client) float64 { return c.sum(func(s *Summary) int64 { return s.DirsChanged }) }},
		{prometheus.NewDesc("restic_backup_dirs_unmodified", "Number of unmodified directories in the backup", clientLabels, nil),
			func(c *client) float64 { return c.sum(func(s *Summary) int64 { return s.DirsUnmodified }) }},
		{prometheus.NewDesc("restic_backup_data_added_bytes", "Number of bytes added in the backup", clientLabels, nil),
			func(c *client) float64 { return c.sum(func(s *Summary) int64 { return s.DataAdded }) }},
		// The job textfile uses this name too, with job labels; the two
		// never share a registry (textfile collector vs `hbackup exporter`).
		{prometheus.NewDesc("restic_backup_duration_seconds", "Amount of time Restic took to make the backup", clientLabels, nil),
			func(c *client) float64 {
				if s := c.latest.Summary; s != nil && !s.BackupStart.IsZero() && !s.BackupEnd.IsZero() {
					return s.BackupEnd.Sub(s.BackupStart).Seconds()
				}
				return -1
			}},
	}
)

// client is one backup source: the snapshots sharing host, user and paths.
type client struct {
	hash   string
	latest SnapshotInfo
	count  int
}

func (c *client) sum(field func(*Summary) int64) float64 {
	if c.latest.Summary == nil {
		return -1
	}
	return float64(field(c.latest.Summary))
}

// clientHash identifies a backup source as restic-exporter does, so the
// snapshot_hash label is the same for the same source.
func clientHash(s SnapshotInfo) string {
	sum := sha256.Sum256([]byte(s.Hostname + s.Username + strings.Join(s.Paths, ",")))
	return hex.EncodeToString(sum[:])
}

// Describe implements prometheus.Collector.
func (c *RepositoryCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range repoDescs {
		ch <- d.desc
	}
	for _, d := range clientDescs {
		ch <- d.desc
	}
}

// Collect implements prometheus.Collector. Before the first successful
// Refresh it exports nothing.
func (c *RepositoryCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	st, dur := c.stats, c.duration
	c.mu.Unlock()
	if st == nil {
		return
	}
	for _, d := range repoDescs {
		ch <- prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, d.value(st, dur))
	}
	clients := map[string]*client{}
	var order []string
	for _, s := range st.Snapshots {
		h := clientHash(s)
		cl, ok := clients[h]
		if !ok {
			cl = &client{hash: h, latest: s}
			clients[h] = cl
			order = append(order, h)
		}
		cl.count++
		if s.Time.After(cl.latest.Time) {
			cl.latest = s
		}
	}
	for _, h := range order {
		cl := clients[h]
		s := cl.latest
		tag := ""
		if len(s.Tags) > 0 {
			tag = s.Tags[0]
		}
		paths := ""
		if c.opts.IncludePaths {
			paths = strings.Join(s.Paths, ",")
		}
		values := []string{s.Hostname, s.Username, s.ProgramVersion, h, tag, strings.Join(s.Tags, ","), paths}
		for _, d := range clientDescs {
			ch <- prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, d.value(cl), values...)
		}
	}
}
