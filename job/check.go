package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hbackup/hbackup/job/config"
)

// CheckKind says what a CheckOutcome checked.
type CheckKind string

// Kinds of checks.
const (
	KindVerification CheckKind = "verification"
	KindRestoreTest  CheckKind = "restore_test"
)

// CheckOutcome is the result of a verification or a restore test.
type CheckOutcome struct {
	Kind       CheckKind
	Job        string // restore tests only
	Repository string
	Hostname   string
	Start, End time.Time
	Success    bool
	// Detail says what was checked, e.g. "read-data-subset 3/20" or
	// "10 files restored and verified".
	Detail string
	Errors []Failure
	Log    string
}

// CheckReporter is told about verifications and restore tests; Reporters
// that also implement it get them.
type CheckReporter interface {
	CheckFinished(ctx context.Context, c *CheckOutcome)
}

func (r *Runner) reportCheck(ctx context.Context, c *CheckOutcome) {
	for _, rep := range r.Reporters {
		if cr, ok := rep.(CheckReporter); ok {
			cr.CheckFinished(context.WithoutCancel(ctx), c)
		}
	}
}

func (r *Runner) fail(c *CheckOutcome, err error) {
	c.Errors = append(c.Errors, Failure{Err: err, Class: r.classifier().Classify(err)})
}

// Verify runs `check` on a repository, reading the next part of its data:
// a subset like "5%" is turned into 20 parts read in turn over successive
// runs (the position is kept in the log directory), so every pack is read
// once per cycle instead of a random 5% each time.
func (r *Runner) Verify(ctx context.Context, repoName string) *CheckOutcome {
	c := &CheckOutcome{Kind: KindVerification, Repository: repoName, Hostname: r.hostname(), Start: r.now()}
	defer func() {
		c.End = r.now()
		c.Success = len(c.Errors) == 0
		r.reportCheck(ctx, c)
	}()
	repo := r.Config.Repositories[repoName]
	if repo == nil {
		r.fail(c, fmt.Errorf("no repository %q in %s", repoName, r.Config.File))
		return c
	}
	args := append(repoArgs(repo), "check")
	subset, err := r.nextSubset(repoName, r.Config.Verification.ReadDataSubset)
	if err != nil {
		r.fail(c, err)
		return c
	}
	if subset != "" {
		args = append(args, "--read-data-subset", subset)
		c.Detail = "read-data-subset " + subset
	} else {
		c.Detail = "structure only (no data read)"
	}
	env, err := repoEnv(repo)
	if err != nil {
		r.fail(c, err)
		return c
	}
	res := r.Exec.Run(ctx, Invocation{Args: args, Env: env})
	c.Log = string(res.Stdout) + string(res.Stderr)
	if res.Err != nil {
		r.fail(c, commandError("verification", repoName, res))
		return c
	}
	if err := r.saveSubsetPosition(repoName, subset); err != nil {
		r.logf("verification of %s: %v\n", repoName, err)
	}
	return c
}

// verifyState is what verification remembers between runs: per
// repository, how many runs have succeeded, which picks the next part.
type verifyState map[string]int

func (r *Runner) statePath() string {
	return filepath.Join(r.Config.Monitoring.LogDir, "verification-state.json")
}

func (r *Runner) loadVerifyState() verifyState {
	state := verifyState{}
	if b, err := os.ReadFile(r.statePath()); err == nil {
		_ = json.Unmarshal(b, &state) // a damaged state restarts the cycle
	}
	return state
}

// nextSubset returns the --read-data-subset value of this run.
func (r *Runner) nextSubset(repoName, spec string) (string, error) {
	if spec == "" {
		return "", nil
	}
	return config.SubsetForRun(spec, r.loadVerifyState()[repoName]), nil
}

// saveSubsetPosition counts a successful run, so the next one reads the
// next part.
func (r *Runner) saveSubsetPosition(repoName, _ string) error {
	state := r.loadVerifyState()
	state[repoName]++
	b, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(r.statePath()), 0o755); err != nil {
		return err
	}
	tmp := r.statePath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, r.statePath())
}

var errNoSnapshot = errors.New("no snapshot of the job yet")
