package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/hbackup/hbackup/bench/dataset"
	"github.com/hbackup/hbackup/internal/testutil"
)

// sftpScenario is backup-sftp (issue 4): a first backup over loopback SFTP
// to a real OpenSSH sshd, restic through the system ssh, hbackup through
// its native SSH client. The source is the data set generated at a
// quarter of the scale, so it has the same mix of random, text and small
// files as the full one, which no choice of whole subdirectories gives
// (random/ alone holds 70% of the bytes).
type sftpScenario struct {
	b       *bench
	server  *testutil.SSHD
	home    string // HOME of both tools: .ssh/config and known_hosts for the server
	dataDir string
	data    *dataset.Manifest
	remote  map[*tool]*tool // each tool set up to reach the server
}

// sftpUnavailable says what the machine lacks for backup-sftp: sshd, and
// ssh for restic. Neither needs root: sshd runs as the harness's user,
// who is then the only one who can log in, and the only one needed.
func sftpUnavailable() error {
	if _, err := testutil.SSHDPath(); err != nil {
		return err
	}
	if _, err := exec.LookPath("ssh"); err != nil {
		return fmt.Errorf("ssh (restic's SFTP transport, package openssh-client) not found: %w", err)
	}
	return nil
}

// setup prepares the quarter data set, starts sshd and writes the tools'
// HOME, untimed.
func (sc *sftpScenario) setup(ctx context.Context, _ []*tool) error {
	b := sc.b
	p := dataset.Params{Seed: b.cfg.seed, Scale: b.cfg.scale / 4}
	var err error
	if sc.dataDir, sc.data, err = prepareData(filepath.Join(b.work, "data-quarter"), p, b.log); err != nil {
		return err
	}
	if sc.server, err = testutil.StartSSHDServer(ctx, b.fresh("sshd"), testutil.SSHDOptions{}); err != nil {
		return fmt.Errorf("starting sshd: %w", err)
	}
	fmt.Fprintf(b.log, "sshd listening on %s\n", sc.server.Addr())
	sc.home = b.fresh("sftp-home")
	if err := sc.server.WriteHomeFiles(sc.home); err != nil {
		return err
	}
	// No agent: both tools authenticate with the generated key only.
	env := []string{"HOME=" + sc.home, "SSH_AUTH_SOCK="}
	// restic runs `ssh HOST -s sftp`, but OpenSSH reads ~/.ssh from the
	// passwd entry, not $HOME: the same command with -F names the file
	// hbackup reads. restic is set up even if it takes no part: it guards.
	cmd := fmt.Sprintf("ssh -F %s %s -s sftp", filepath.Join(sc.home, ".ssh", "config"), sc.server.Alias)
	sc.remote = map[*tool]*tool{b.restic: b.restic.via(env, "-o", "sftp.command="+cmd), b.hbackup: b.hbackup.via(env)}
	return nil
}

// run times one tool's backup into a new repository served over SFTP: a
// copy of newRepo's, put in place directly (untimed). restic checks
// hbackup's first repository over SFTP too.
func (sc *sftpScenario) run(ctx context.Context, t *tool, r int) (sample, error) {
	b, rt := sc.b, sc.remote[t]
	dir, err := b.newRepo(ctx, t)
	if err != nil {
		return sample{}, err
	}
	url := "sftp:" + sc.server.Alias + ":" + dir
	serverBefore, err := sc.server.SessionsCPU()
	if err != nil {
		return sample{}, err
	}
	res, err := b.timed(ctx, rt, b.backupArgs(t, url, "auto", sc.dataDir)...)
	if err != nil {
		return sample{}, err
	}
	serverAfter, err := sc.server.SessionsCPU()
	if err != nil {
		return sample{}, err
	}
	size, err := dirSize(dir)
	if err != nil {
		return sample{}, err
	}
	s := sample{Seconds: res.wall.Seconds(), CPU: res.cpu.Seconds(), MaxRSS: res.maxRSS, Bytes: sc.data.Bytes, RepoSize: size,
		ServerCPU: (serverAfter - serverBefore).Seconds(), Summary: parseSummary(res.stdout)}
	if t == b.hbackup && r == 0 {
		if err := b.guardRepoVia(ctx, sc.remote[b.restic], url, "backup-sftp"); err != nil {
			return s, err
		}
	}
	return s, os.RemoveAll(dir)
}

// finish says what was backed up and how each tool reached the server.
func (sc *sftpScenario) finish(_ context.Context, res *scenarioResult) error {
	res.Notes = append(res.Notes,
		fmt.Sprintf("source: the data set at scale %g (a quarter of %g): %d files, %.1f MiB in %s",
			sc.b.cfg.scale/4, sc.b.cfg.scale, sc.data.Files, float64(sc.data.Bytes)/mib, sc.dataDir),
		fmt.Sprintf("both tools to sshd on %s as %s, 5 connections each (both defaults); restic through the system ssh "+
			"(-o sftp.command=\"ssh -F HOME/.ssh/config HOST -s sftp\"), hbackup through its native client reading HOME/.ssh",
			sc.server.Addr(), sc.server.User),
		"CPU s is the client side only: restic's includes its ssh child, neither includes sshd",
		serverCPUNote(res))
	return nil
}

// serverCPUNote reports what sshd spent serving each tool (medians), and
// the client and server together: on two cores, a wall time cannot be
// below half of that sum.
func serverCPUNote(res *scenarioResult) string {
	med := func(tr *toolResult) (server, total float64) {
		var srv, tot []float64
		for _, s := range tr.Samples {
			srv = append(srv, s.ServerCPU)
			tot = append(tot, s.CPU+s.ServerCPU)
		}
		return median(srv), median(tot)
	}
	rs, rt := med(res.Restic)
	hs, ht := med(res.Hbackup)
	return fmt.Sprintf("sshd CPU s r/h (its session processes, measured from its reaped children): %.2f/%.2f; "+
		"client + sshd CPU s r/h: %.2f/%.2f", rs, hs, rt, ht)
}

// cleanup stops sshd; the scratch directory holding its files goes later.
func (sc *sftpScenario) cleanup() error {
	if sc.server != nil {
		sc.server.Stop()
	}
	return nil
}
