package job

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hbackup/hbackup/job/metrics"
)

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
	// SnapshotInfo has the field names of `snapshots --json`.
	if err := runJSON(&st.Snapshots, "snapshots", "--json", "--no-lock"); err != nil {
		return nil, err
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
