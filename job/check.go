package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// parts returns how many parts a subset spec rotates through, or 0 when
// it does not rotate (a size, or empty).
func parts(spec string) (int, error) {
	switch {
	case spec == "":
		return 0, nil
	case strings.HasSuffix(spec, "%"):
		p, err := strconv.ParseFloat(strings.TrimSuffix(spec, "%"), 64)
		if err != nil || p <= 0 || p > 100 {
			return 0, fmt.Errorf("verification.read_data_subset %q: want a percentage above 0 and at most 100", spec)
		}
		return int(math.Ceil(100 / p)), nil
	case strings.Contains(spec, "/"):
		_, t, _ := strings.Cut(spec, "/")
		n, err := strconv.Atoi(t)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("verification.read_data_subset %q: want n/t", spec)
		}
		return n, nil
	}
	return 0, nil
}

type verifyState map[string]string // repository -> last subset read ("n/t")

func (r *Runner) statePath() string {
	return filepath.Join(r.Config.Monitoring.LogDir, "verification-state.json")
}

// nextSubset returns the --read-data-subset value of this run.
func (r *Runner) nextSubset(repoName, spec string) (string, error) {
	t, err := parts(spec)
	if err != nil || t == 0 {
		return spec, err
	}
	if t == 1 {
		return "1/1", nil
	}
	state := verifyState{}
	if b, err := os.ReadFile(r.statePath()); err == nil {
		_ = json.Unmarshal(b, &state) // a damaged state restarts the cycle
	}
	n := 1
	if last, ok := state[repoName]; ok {
		var ln, lt int
		if _, err := fmt.Sscanf(last, "%d/%d", &ln, &lt); err == nil && lt == t {
			n = ln%t + 1
		}
	}
	return fmt.Sprintf("%d/%d", n, t), nil
}

func (r *Runner) saveSubsetPosition(repoName, subset string) error {
	if !strings.Contains(subset, "/") {
		return nil
	}
	state := verifyState{}
	if b, err := os.ReadFile(r.statePath()); err == nil {
		_ = json.Unmarshal(b, &state)
	}
	state[repoName] = subset
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

// verifyRepos are the repositories `hbackup verify` checks by default:
// every configured one.
func verifyRepos(cfg *config.Config) []string { return cfg.RepositoryNames() }

var errNoSnapshot = errors.New("no snapshot of the job yet")
