package job

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hbackup/hbackup/job/metrics"
)

// snapshotJSON is an entry of `snapshots --json`.
type snapshotJSON struct {
	ID             string    `json:"id"`
	Time           time.Time `json:"time"`
	Hostname       string    `json:"hostname"`
	Username       string    `json:"username"`
	ProgramVersion string    `json:"program_version"`
	Tags           []string  `json:"tags"`
	Paths          []string  `json:"paths"`
	Summary        *struct {
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
	} `json:"summary"`
}

// RepositoryStats reads what restic-exporter publishes about a
// repository: its snapshots, locks and size, and with check the result
// of a `check` (restic_check_success is 2, "not run", otherwise).
func (r *Runner) RepositoryStats(ctx context.Context, repoName string, check bool) (*metrics.RepositoryStats, error) {
	repo := r.Config.Repositories[repoName]
	if repo == nil {
		return nil, fmt.Errorf("no repository %q in %s", repoName, r.Config.File)
	}
	env, err := repoEnv(repo)
	if err != nil {
		return nil, err
	}
	runJSON := func(v any, args ...string) error {
		res := r.Exec.Run(ctx, Invocation{Args: append(repoArgs(repo), args...), Env: env})
		if res.Err != nil {
			return commandError("exporter", repoName, res)
		}
		if v == nil {
			return nil
		}
		return json.Unmarshal(res.Stdout, v)
	}
	st := &metrics.RepositoryStats{Check: metrics.CheckSkipped, UncompressedSize: -1, CompressionRatio: -1}
	var sns []snapshotJSON
	if err := runJSON(&sns, "snapshots", "--json", "--no-lock"); err != nil {
		return nil, err
	}
	for _, s := range sns {
		info := metrics.SnapshotInfo{ID: s.ID, Time: s.Time, Hostname: s.Hostname, Username: s.Username,
			ProgramVersion: s.ProgramVersion, Tags: s.Tags, Paths: s.Paths}
		if sm := s.Summary; sm != nil {
			info.Summary = &metrics.Summary{BackupStart: sm.BackupStart, BackupEnd: sm.BackupEnd,
				FilesNew: sm.FilesNew, FilesChanged: sm.FilesChanged, FilesUnmodified: sm.FilesUnmodified,
				DirsNew: sm.DirsNew, DirsChanged: sm.DirsChanged, DirsUnmodified: sm.DirsUnmodified,
				DataAdded: sm.DataAdded, TotalFilesProcessed: sm.TotalFilesProcessed, TotalBytesProcessed: sm.TotalBytesProcessed}
		}
		st.Snapshots = append(st.Snapshots, info)
	}
	res := r.Exec.Run(ctx, Invocation{Args: append(repoArgs(repo), "list", "locks", "--no-lock"), Env: env})
	if res.Err != nil {
		return nil, commandError("exporter", repoName, res)
	}
	st.Locks = len(strings.Fields(string(res.Stdout)))
	var raw struct {
		TotalSize        int64    `json:"total_size"`
		TotalBlobCount   int64    `json:"total_blob_count"`
		UncompressedSize *int64   `json:"total_uncompressed_size"`
		CompressionRatio *float64 `json:"compression_ratio"`
	}
	if err := runJSON(&raw, "stats", "--mode", "raw-data", "--json", "--no-lock"); err != nil {
		return nil, err
	}
	st.TotalSize, st.BlobCount = raw.TotalSize, raw.TotalBlobCount
	if raw.UncompressedSize != nil {
		st.UncompressedSize = *raw.UncompressedSize
	}
	if raw.CompressionRatio != nil {
		st.CompressionRatio = *raw.CompressionRatio
	}
	if check {
		st.Check = metrics.CheckOK
		if err := runJSON(nil, "check", "--no-lock"); err != nil {
			st.Check = metrics.CheckFailed
		}
	}
	return st, nil
}
