package docs

import (
	"fmt"
	"strings"

	"github.com/hbackup/hbackup/job/config"
)

// access is how to reach one repository from a shell.
type access struct {
	repo     *config.Repository
	url      string // the URL without its password
	restUser string // set when the URL held a user and password
}

func newAccess(repo *config.Repository) access {
	a := access{repo: repo, url: repo.URL}
	if stripped, user, ok := splitCredentials(repo.URL); ok {
		a.url, a.restUser = stripped, user
	}
	return a
}

// setup returns the shell lines to run before the repository's commands.
func (a access) setup(configFile string) []string {
	var lines []string
	if f := a.repo.EnvironmentFile; f != "" {
		lines = append(lines, "set -a; . "+shq(f)+"; set +a   # storage credentials")
	}
	if a.restUser != "" {
		lines = append(lines, "export RESTIC_REST_USERNAME="+shq(a.restUser))
		lines = append(lines, fmt.Sprintf("export RESTIC_REST_PASSWORD=...   # the password in [repositories.%s] url of %s", a.repo.Name, configFile))
	}
	return lines
}

// line is one command of bin against the repository.
func (a access) line(bin string, args ...string) string {
	return commandLine(append([]string{bin, "-r", a.url, "--password-file", a.repo.PasswordFile}, args...)...)
}

// both gives the same command for hbackup and for restic.
func (r *runbook) both(a access, args ...string) []string {
	return []string{a.line(r.cmd, args...), a.line("restic", args...)}
}

// filter selects a job's snapshots: this host, the job's tags, its paths.
func (r *runbook) filter(j *config.Job) []string {
	f := []string{"--host", r.host}
	if len(j.Tags) > 0 {
		f = append(f, "--tag", strings.Join(j.Tags, ","))
	}
	for _, p := range j.Paths {
		f = append(f, "--path", p)
	}
	return f
}

// repositoriesOf lists a job's repository, then its copies.
func (r *runbook) repositoriesOf(j *config.Job) []*config.Repository {
	var out []*config.Repository
	for _, n := range append([]string{j.Repository}, j.CopyTo...) {
		if repo := r.c.Repositories[n]; repo != nil {
			out = append(out, repo)
		}
	}
	return out
}

func (r *runbook) restore() {
	m := &r.m
	m.h(2, "Restore")
	m.p("Replace `/path/to/file` with the file to restore. `latest` is the newest snapshot that matches")
	m.p("`--host`, `--tag` and `--path`; list the snapshots to pick an older one and use its ID instead.")
	m.p("Each command is given for hbackup and for restic; either one is enough.\n")
	for _, name := range r.c.JobNames() {
		j := r.c.Jobs[name]
		m.h(3, "Job "+name)
		if len(j.ZFS) > 0 {
			m.p("The ZFS datasets %s were backed up from snapshots; `snapshots` shows the paths recorded.", codes(j.ZFS))
			m.p("Before a full restore, recreate the datasets (`zfs create`) and restore into their mountpoints.\n")
			if len(j.Tags) == 0 && len(j.Paths) == 0 {
				m.p("The job has no tags or paths to select its snapshots by, so `latest` may be another job's")
				m.p("snapshot of this host: list the snapshots and use the ID of this job's instead.\n")
			}
		}
		for i, repo := range r.repositoriesOf(j) {
			a := newAccess(repo)
			role := "the job's repository"
			if i > 0 {
				role = "a copy, if " + j.Repository + " is lost"
			}
			m.p("From **%s** (%s), %s:\n", repo.Name, role, code(RedactURL(repo.URL)))
			f := r.filter(j)
			var lines []string
			lines = append(lines, a.setup(r.c.File)...)
			lines = append(lines, "# list the snapshots")
			lines = append(lines, r.both(a, append([]string{"snapshots"}, f...)...)...)
			lines = append(lines, "# restore one file where it was (overwrites it)")
			lines = append(lines, r.both(a, append(append([]string{"restore", "latest"}, f...), "--target", "/", "--include", "/path/to/file")...)...)
			lines = append(lines, "# or restore it beside, into /tmp/restore, to compare first")
			lines = append(lines, r.both(a, append(append([]string{"restore", "latest"}, f...), "--target", "/tmp/restore", "--include", "/path/to/file")...)...)
			lines = append(lines, "# or write one file to the current directory, without mounting anything")
			for _, l := range r.both(a, append(append([]string{"dump", "latest"}, f...), "/path/to/file")...) {
				lines = append(lines, l+" > file")
			}
			lines = append(lines, "# browse the snapshot")
			lines = append(lines, r.both(a, append(append([]string{"ls", "latest"}, f...), "/")...)...)
			lines = append(lines, "# restore everything the job backs up (whole-system restore)")
			lines = append(lines, r.both(a, append(append([]string{"restore", "latest"}, f...), "--target", "/")...)...)
			m.shell(lines...)
		}
	}
	r.wholeSystem()
}

func (r *runbook) wholeSystem() {
	m := &r.m
	m.h(3, "Whole system")
	m.p("1. Boot the replacement machine (or a rescue system) and install hbackup or restic.")
	m.p("2. Bring back the password and environment files listed under [Keys and secrets](#keys-and-secrets)")
	m.p("   from where you keep their copies: without a repository's password nobody can read it.")
	m.p("3. Recreate the file systems and ZFS datasets, mounted where they were.")
	m.p("4. For each job below, run its \"restore everything\" command from above, primary repository first:")
	for _, name := range r.c.JobNames() {
		j := r.c.Jobs[name]
		m.p("   - %s: %s", name, sources(j))
	}
	m.p("5. Reinstall hbackup's configuration %s and its timers (`%s schedule install --config %s`).", code(r.c.File), r.cmd, shq(r.c.File))
	m.p("6. Run `%s health --config %s` and one backup (`%s run --config %s`).\n", r.cmd, shq(r.c.File), r.cmd, shq(r.c.File))
}

func (r *runbook) repositoryChecks() {
	m := &r.m
	m.h(2, "Checking the repositories")
	subset := r.c.Verification.ReadDataSubset
	if subset == "" {
		subset = "5%"
	}
	m.p("`check` verifies the structure; with `--read-data-subset` it also reads and decrypts that share of")
	m.p("the data, and `--read-data` all of it. Scheduled verification: `%s verify --config %s`.\n", r.cmd, shq(r.c.File))
	for _, name := range r.c.RepositoryNames() {
		a := newAccess(r.c.Repositories[name])
		m.p("**%s**, %s:\n", name, code(RedactURL(a.repo.URL)))
		var lines []string
		lines = append(lines, a.setup(r.c.File)...)
		lines = append(lines, r.both(a, "check")...)
		lines = append(lines, r.both(a, "check", "--read-data-subset", subset)...)
		m.shell(lines...)
	}
}
