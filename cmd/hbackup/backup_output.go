package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hbackup/hbackup/snapshot"
	"github.com/hbackup/hbackup/snapshot/archiver"
	"golang.org/x/term"
)

func (g *globalOptions) verbosef(level int, format string, args ...any) {
	if g.verbose >= level && !g.quiet && !g.json {
		fmt.Fprintf(g.stdout, format, args...)
	}
}

func absPath(p string) (string, error) { return filepath.Abs(filepath.Clean(p)) }

func globOrSelf(pattern string) ([]string, error) {
	m, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("invalid pattern %q in --files-from: %w", pattern, err)
	}
	if len(m) == 0 {
		return []string{pattern}, nil
	}
	return m, nil
}

func readAllStdin() ([]byte, error) { return io.ReadAll(os.Stdin) }

// startBackupProgress prints progress while the backup runs: a status
// line on a terminal, JSON status lines with --json. The returned function
// stops it.
func (g *globalOptions) startBackupProgress(p *archiver.Progress, targets []string) func() {
	if g.quiet {
		return func() {}
	}
	tty := false
	if f, ok := g.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tty = true
	}
	if !tty && !g.json {
		return func() {}
	}
	go scanTotals(p, targets)
	stop := make(chan struct{})
	done := make(chan struct{})
	start := time.Now()
	interval := time.Second / 6
	if g.json {
		interval = time.Second
	}
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				if tty && !g.json {
					fmt.Fprint(g.stdout, "\r\033[K")
				}
				return
			case <-t.C:
				g.printStatus(p, time.Since(start), tty)
			}
		}
	}()
	return func() { close(stop); <-done }
}

func (g *globalOptions) printStatus(p *archiver.Progress, elapsed time.Duration, tty bool) {
	files, bytes := p.Files.Load(), p.Bytes.Load()
	totalFiles, totalBytes := p.TotalFiles.Load(), p.TotalBytes.Load()
	pct := 0.0
	if totalBytes > 0 {
		pct = float64(bytes) / float64(totalBytes)
	}
	if g.json {
		_ = writeJSON(g.stdout, map[string]any{"message_type": "status", "seconds_elapsed": int(elapsed.Seconds()),
			"percent_done": pct, "total_files": totalFiles, "files_done": files, "total_bytes": totalBytes,
			"bytes_done": bytes, "error_count": p.Errors.Load()})
		return
	}
	rate := float64(bytes) / max(elapsed.Seconds(), 0.001)
	eta := ""
	if p.ScanDone.Load() && rate > 0 && totalBytes > bytes {
		eta = " ETA " + formatDuration(time.Duration(float64(totalBytes-bytes)/rate*float64(time.Second)))
	}
	fmt.Fprintf(g.stdout, "\r\033[K[%s] %.2f%%  %d files %s, total %d files %s, %d errors, %s/s%s",
		formatDuration(elapsed), pct*100, files, formatBytes(bytes), totalFiles, formatBytes(totalBytes),
		p.Errors.Load(), formatBytes(uint64(rate)), eta)
}

// scanTotals counts files and bytes of the targets for the ETA. It only
// stats, and its numbers are advisory (exclusions are not applied).
func scanTotals(p *archiver.Progress, targets []string) {
	for _, t := range targets {
		_ = filepath.Walk(t, func(_ string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() {
				p.TotalFiles.Add(1)
				p.TotalBytes.Add(uint64(fi.Size()))
			}
			return nil
		})
	}
	p.ScanDone.Store(true)
}

func (g *globalOptions) printBackupSummary(res *archiver.Result, parent *snapshot.Snapshot, dryRun bool) {
	s := res.Summary
	if g.json {
		out := map[string]any{"message_type": "summary",
			"files_new": s.FilesNew, "files_changed": s.FilesChanged, "files_unmodified": s.FilesUnmodified,
			"dirs_new": s.DirsNew, "dirs_changed": s.DirsChanged, "dirs_unmodified": s.DirsUnmodified,
			"data_blobs": s.DataBlobs, "tree_blobs": s.TreeBlobs, "data_added": s.DataAdded,
			"total_files_processed": s.TotalFilesProcessed, "total_bytes_processed": s.TotalBytesProcessed,
			"total_duration": s.BackupEnd.Sub(s.BackupStart).Seconds(), "dry_run": dryRun}
		if !dryRun {
			out["snapshot_id"] = res.SnapshotID.String()
		}
		_ = writeJSON(g.stdout, out)
		return
	}
	if parent != nil {
		g.printf("using parent snapshot %s\n", parent.ID().Str())
	}
	g.printf("\nFiles:       %5d new, %5d changed, %5d unmodified\n", s.FilesNew, s.FilesChanged, s.FilesUnmodified)
	g.printf("Dirs:        %5d new, %5d changed, %5d unmodified\n", s.DirsNew, s.DirsChanged, s.DirsUnmodified)
	g.printf("Added to the repository: %s (%s stored)\n\n", formatBytes(s.DataAdded), formatBytes(s.DataAddedPacked))
	g.printf("processed %d files, %s in %s\n", s.TotalFilesProcessed, formatBytes(s.TotalBytesProcessed), formatDuration(s.BackupEnd.Sub(s.BackupStart)))
	if dryRun {
		g.printf("would add %s to the repository (dry run, nothing written)\n", formatBytes(s.DataAdded))
	} else {
		g.printf("snapshot %s saved\n", res.SnapshotID.Str())
	}
}
