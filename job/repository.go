package job

import (
	"fmt"

	"github.com/hbackup/hbackup/job/config"
	"github.com/hbackup/hbackup/job/envfile"
)

// repoArgs are the global flags that select a configured repository.
func repoArgs(r *config.Repository) []string {
	return []string{"--repo", r.URL, "--password-file", r.PasswordFile}
}

// repoEnv reads the repository's environment file (B2 credentials and
// the like) into KEY=VALUE pairs for the child process.
func repoEnv(r *config.Repository) ([]string, error) {
	if r.EnvironmentFile == "" {
		return nil, nil
	}
	vars, err := envfile.ReadFile(r.EnvironmentFile)
	if err != nil {
		return nil, fmt.Errorf("repository %s: environment file: %w", r.Name, err)
	}
	env := make([]string, len(vars))
	for i, v := range vars {
		env[i] = v.String()
	}
	return env, nil
}

// retentionArgs turns a policy into forget's --keep-* flags; nil means
// the policy keeps everything (restic refuses forget without a policy).
func retentionArgs(p config.Retention) []string {
	var args []string
	for _, k := range []struct {
		flag string
		n    int
	}{
		{"--keep-last", p.Last}, {"--keep-hourly", p.Hourly}, {"--keep-daily", p.Daily},
		{"--keep-weekly", p.Weekly}, {"--keep-monthly", p.Monthly}, {"--keep-yearly", p.Yearly},
	} {
		if k.n != 0 {
			args = append(args, k.flag, fmt.Sprint(k.n))
		}
	}
	return args
}
