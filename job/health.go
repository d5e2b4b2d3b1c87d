package job

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hbackup/hbackup/job/config"
	"github.com/hbackup/hbackup/job/eventlog"
)

// Level grades a health problem.
type Level int

// Levels, as monitoring plugins use them (they are also the exit codes
// of `hbackup health`).
const (
	LevelOK       Level = 0
	LevelWarning  Level = 1
	LevelCritical Level = 2
)

var levelNames = [...]string{"ok", "warning", "critical"}

func (l Level) String() string { return levelNames[l] }

// MarshalText writes the level's name, as in `health --json`.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a level's name.
func (l *Level) UnmarshalText(b []byte) error {
	for i, name := range levelNames {
		if string(b) == name {
			*l = Level(i)
			return nil
		}
	}
	return fmt.Errorf("unknown health level %q", b)
}

// Health is the state of one job's backups. Its JSON (`health --json`)
// has snake_case names, as the job log's events do.
type Health struct {
	Job              string          `json:"job"`
	Repository       string          `json:"repository"`
	Snapshots        int             `json:"snapshots"`
	LastSnapshot     time.Time       `json:"last_snapshot"` // zero without snapshots
	Locks            int             `json:"locks"`
	LastVerification *eventlog.Event `json:"last_verification"`
	Level            Level           `json:"level"`
	Problems         []string        `json:"problems"`
}

func (h *Health) problem(l Level, format string, args ...any) {
	h.Problems = append(h.Problems, fmt.Sprintf("%s: ", l)+fmt.Sprintf(format, args...))
	if l > h.Level {
		h.Level = l
	}
}

// Health checks one job against the validation thresholds: the age of its
// last snapshot (max_age), the number of snapshots (min_backups), the
// last verification of its repository, and locks left in the repository.
func (r *Runner) Health(ctx context.Context, j *config.Job) *Health {
	h := &Health{Job: j.Name, Repository: j.Repository}
	repo := r.Config.Repositories[j.Repository]
	env, err := repoEnv(repo)
	if err != nil {
		h.problem(LevelCritical, "%v", err)
		return h
	}
	paths, err := r.recordedPaths(ctx, j)
	if err != nil {
		h.problem(LevelCritical, "%v", err)
		return h
	}
	args := append(repoArgs(repo), "snapshots", "--json", "--no-lock", "--host", r.hostname())
	for _, p := range paths {
		args = append(args, "--path", p)
	}
	res := r.Exec.Run(ctx, Invocation{Args: args, Env: env})
	if res.Err != nil {
		h.problem(LevelCritical, "repository %s: %v", repo.Name, commandError("health", repo.Name, res).(*StageError).Err)
		return h
	}
	var sns []struct {
		Time time.Time `json:"time"`
	}
	if err := json.Unmarshal(res.Stdout, &sns); err != nil {
		h.problem(LevelCritical, "snapshots --json: %v", err)
		return h
	}
	h.Snapshots = len(sns)
	for _, s := range sns {
		if s.Time.After(h.LastSnapshot) {
			h.LastSnapshot = s.Time
		}
	}
	v := r.Config.Validation
	switch {
	case h.Snapshots == 0:
		h.problem(LevelCritical, "no snapshot of the job in %s", repo.Name)
	case v.MaxAge > 0 && r.now().Sub(h.LastSnapshot) > v.MaxAge:
		h.problem(LevelCritical, "last snapshot is %s old (validation.max_age %s)", r.now().Sub(h.LastSnapshot).Round(time.Minute), v.MaxAge)
	}
	if h.Snapshots > 0 && h.Snapshots < v.MinBackups {
		h.problem(LevelWarning, "%d snapshots, fewer than validation.min_backups (%d)", h.Snapshots, v.MinBackups)
	}

	res = r.Exec.Run(ctx, Invocation{Args: append(repoArgs(repo), "list", "locks", "--no-lock"), Env: env})
	if res.Err == nil {
		h.Locks = len(strings.Fields(string(res.Stdout)))
		if h.Locks > 0 {
			h.problem(LevelWarning, "%d lock(s) in %s: a run in progress, or left by a crash (hbackup unlock removes stale ones)", h.Locks, repo.Name)
		}
	}

	log := eventlog.Log{Dir: r.Config.Monitoring.LogDir}
	last, err := log.Last(ctx, eventlog.JobsFile, func(e eventlog.Event) bool {
		return e.Repository == repo.Name && e.Finished() && strings.HasPrefix(e.Event, "verification_")
	})
	if err == nil {
		if e, ok := last[""]; ok {
			h.LastVerification = &e
			if e.Event == eventlog.VerificationFailure {
				h.problem(LevelCritical, "last verification of %s failed at %s: %s", repo.Name, e.Time.Format(time.RFC3339), e.Error)
			}
		}
	}
	return h
}
