package job

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/hbackup/hbackup/backend/location"
	"github.com/hbackup/hbackup/job/config"
	"github.com/hbackup/hbackup/zfs"
)

// backupSummary is the last line of `backup --json`.
type backupSummary struct {
	MessageType         string `json:"message_type"`
	SnapshotID          string `json:"snapshot_id"`
	FilesNew            int64  `json:"files_new"`
	FilesChanged        int64  `json:"files_changed"`
	DataAdded           int64  `json:"data_added"`
	TotalFilesProcessed int64  `json:"total_files_processed"`
	TotalBytesProcessed int64  `json:"total_bytes_processed"`
}

// backup runs `hbackup backup` for the job. Exit code 3 (some files could
// not be read) still made a snapshot: the run goes on as a warning.
func (r *Runner) backup(ctx context.Context, j *config.Job, repo *config.Repository, o *Outcome, log io.Writer) error {
	env, err := repoEnv(repo)
	if err != nil {
		return &StageError{Stage: StageBackup, Repository: repo.Name, Err: err}
	}
	args := append(repoArgs(repo), "backup", "--json", "--quiet", "--host", o.Hostname)
	for _, t := range j.Tags {
		args = append(args, "--tag", t)
	}
	for _, e := range j.Exclude {
		args = append(args, "--exclude", e)
	}
	for _, ds := range j.ZFS {
		args = append(args, "--zfs", ds)
	}
	if j.Compression != "" {
		args = append(args, "--compression", j.Compression)
	}
	if j.ReadConcurrency > 0 {
		args = append(args, "--read-concurrency", fmt.Sprint(j.ReadConcurrency))
	}
	args = append(args, j.Paths...)
	res := r.Exec.Run(ctx, Invocation{Args: args, Env: env, Resources: j.Resources, Log: log})
	if res.ExitCode != 0 && res.ExitCode != 3 {
		return commandError(StageBackup, repo.Name, res)
	}
	sum, err := lastSummary(res.Stdout)
	if err != nil {
		return &StageError{Stage: StageBackup, Repository: repo.Name, Err: err}
	}
	o.Backup = BackupStats{
		SnapshotID: sum.SnapshotID, FilesNew: sum.FilesNew, FilesChanged: sum.FilesChanged,
		FilesProcessed: sum.TotalFilesProcessed, BytesAdded: sum.DataAdded, BytesProcessed: sum.TotalBytesProcessed,
	}
	o.Status = StatusSuccess
	if res.ExitCode == 3 {
		o.Status = StatusWarning
		fmt.Fprintf(log, "job %s: snapshot %s is incomplete: some files could not be read\n", j.Name, short(sum.SnapshotID))
	} else {
		fmt.Fprintf(log, "job %s: snapshot %s saved in %s (%d files, %d bytes added)\n", j.Name, short(sum.SnapshotID), repo.Name, sum.TotalFilesProcessed, sum.DataAdded)
	}
	return nil
}

func lastSummary(stdout []byte) (backupSummary, error) {
	lines := bytes.Split(bytes.TrimSpace(stdout), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		var s backupSummary
		if json.Unmarshal(lines[i], &s) == nil && s.MessageType == "summary" {
			if s.SnapshotID == "" {
				return s, errors.New("backup summary has no snapshot ID")
			}
			return s, nil
		}
	}
	return backupSummary{}, errors.New("backup printed no summary")
}

// copy copies the new snapshot to a secondary repository.
func (r *Runner) copy(ctx context.Context, j *config.Job, from, to *config.Repository, o *Outcome, log io.Writer) error {
	envFrom, err := repoEnv(from)
	if err != nil {
		return &StageError{Stage: StageCopy, Repository: to.Name, Err: err}
	}
	envTo, err := repoEnv(to)
	if err != nil {
		return &StageError{Stage: StageCopy, Repository: to.Name, Err: err}
	}
	args := append(repoArgs(to), "copy", "--quiet", "--from-repo", from.URL, "--from-password-file", from.PasswordFile, o.Backup.SnapshotID)
	res := r.Exec.Run(ctx, Invocation{Args: args, Env: append(envFrom, envTo...), Resources: j.Resources, Log: log})
	if res.Err != nil {
		return commandError(StageCopy, to.Name, res)
	}
	fmt.Fprintf(log, "job %s: snapshot %s copied to %s\n", j.Name, short(o.Backup.SnapshotID), to.Name)
	return nil
}

// retention forgets (and prunes) the job's snapshots in every repository
// it writes that is not append-only. Only this host's snapshots of the
// job's paths are considered, so jobs never expire each other's.
func (r *Runner) retention(ctx context.Context, j *config.Job, o *Outcome, log io.Writer) error {
	keep := retentionArgs(j.Retention)
	if len(keep) == 0 {
		return nil
	}
	paths, err := r.recordedPaths(ctx, j)
	if err != nil {
		return &StageError{Stage: StageRetention, Err: err}
	}
	for _, name := range append([]string{j.Repository}, j.CopyTo...) {
		repo := r.Config.Repositories[name]
		if repo.AppendOnly {
			fmt.Fprintf(log, "job %s: %s is append-only: no forget or prune there\n", j.Name, name)
			continue
		}
		env, err := repoEnv(repo)
		if err != nil {
			return &StageError{Stage: StageRetention, Repository: name, Err: err}
		}
		args := append(repoArgs(repo), "forget", "--quiet", "--host", o.Hostname)
		for _, p := range paths {
			args = append(args, "--path", p)
		}
		args = append(args, keep...)
		if j.Retention.Prune {
			args = append(args, "--prune")
		}
		res := r.Exec.Run(ctx, Invocation{Args: args, Env: env, Resources: j.Resources, Log: log})
		if res.Err != nil {
			return commandError(StageRetention, name, res)
		}
	}
	return nil
}

// recordedPaths are the paths the job's snapshots record: its paths made
// absolute, as backup records them, and its ZFS datasets' mount points.
func (r *Runner) recordedPaths(ctx context.Context, j *config.Job) ([]string, error) {
	var out []string
	for _, p := range j.Paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		out = append(out, abs)
	}
	if len(j.ZFS) > 0 {
		mounts, err := r.zfsMounts(ctx, j.ZFS)
		if err != nil {
			return nil, err
		}
		out = append(out, mounts...)
	}
	return sortedCopy(out), nil
}

func (r *Runner) zfsMounts(ctx context.Context, datasets []string) ([]string, error) {
	if r.ZFSMounts != nil {
		return r.ZFSMounts(ctx, datasets)
	}
	z := &zfs.Runner{}
	var out []string
	for _, ds := range datasets {
		d, err := z.Dataset(ctx, ds)
		if err != nil {
			return nil, fmt.Errorf("zfs dataset %s: %w", ds, err)
		}
		out = append(out, d.Mountpoint)
	}
	return out, nil
}

// preflight checks what can be known before the backup starts: the
// sources exist, the repository is reachable and opens with the
// password, and a local repository has the configured free space.
func (r *Runner) preflight(ctx context.Context, j *config.Job, repo *config.Repository) error {
	for _, p := range j.Paths {
		if _, err := os.Lstat(p); err != nil {
			return fmt.Errorf("source path: %w", err)
		}
	}
	v := r.Config.Validation
	if v.MinFreeSpace > 0 {
		if dir, ok := location.LocalPath(repo.URL); ok {
			free, err := freeSpace(dir)
			if err != nil {
				return fmt.Errorf("free space of %s: %w", dir, err)
			}
			if free < uint64(v.MinFreeSpace) {
				return fmt.Errorf("%w: only %s free on the file system of %s, validation.min_free_space is %s",
					lowSpaceError{}, formatBytes(free), dir, formatBytes(uint64(v.MinFreeSpace)))
			}
		}
	}
	env, err := repoEnv(repo)
	if err != nil {
		return err
	}
	cctx := ctx
	if v.NetworkTimeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, v.NetworkTimeout)
		defer cancel()
	}
	res := r.Exec.Run(cctx, Invocation{Args: append(repoArgs(repo), "cat", "config"), Env: env})
	if res.Err != nil {
		if cctx.Err() != nil && ctx.Err() == nil {
			return fmt.Errorf("repository %s did not answer within validation.network_timeout (%s): %w", repo.Name, v.NetworkTimeout, context.DeadlineExceeded)
		}
		return commandError(StagePreflight, repo.Name, res).(*StageError).Err
	}
	return nil
}

// lowSpaceError is a failed free-space check. It matches syscall.ENOSPC,
// so the error analysis files it under storage like a full disk.
type lowSpaceError struct{}

func (lowSpaceError) Error() string        { return "not enough free space" }
func (lowSpaceError) Is(target error) bool { return target == syscall.ENOSPC }

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func formatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
