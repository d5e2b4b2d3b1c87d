// Package config reads hbackup.toml: the repositories, the backup jobs and
// how they are monitored, verified, restore-tested and documented.
//
// Load applies defaults and validates everything it can without touching
// the network or secrets; every problem is reported with its file, line,
// column and key path, all at once (see Errors).
package config

import (
	"sort"
	"time"

	"github.com/hbackup/hbackup/job/errclass"
	"github.com/hbackup/hbackup/job/schedule"
)

// Defaults applied by Load where the file says nothing.
const (
	DefaultLogDir          = "/var/log/hbackup"
	DefaultHookTimeout     = 10 * time.Minute
	DefaultRetries         = 2
	DefaultRetryDelay      = 5 * time.Minute
	DefaultHealthchecksURL = "https://hc-ping.com"
	DefaultLogTailLines    = 100
	DefaultSampleFiles     = 10
	DefaultRestoreTestDir  = "/var/tmp/hbackup-restore-test"
	DefaultNetworkTimeout  = 30 * time.Second
	DefaultMaxAge          = 48 * time.Hour
	DefaultMinBackups      = 1
	DefaultIOPriority      = 4
)

// DefaultRetention is the global retention policy when [retention] is
// absent: 14 daily, 8 weekly, 6 monthly and 2 yearly snapshots.
func DefaultRetention() Retention {
	return Retention{Daily: 14, Weekly: 8, Monthly: 6, Yearly: 2, Prune: true}
}

// Config is a loaded configuration file with defaults applied.
type Config struct {
	File     string         // the path it was loaded from
	Hostname string         // recorded in snapshots and metrics; "" means os.Hostname
	Timezone *time.Location // schedules are in this zone; never nil after Load

	Retention    Retention // the global policy; jobs inherit unset keys
	Repositories map[string]*Repository
	Jobs         map[string]*Job

	Monitoring     Monitoring
	Verification   Verification
	RestoreTesting RestoreTesting
	Validation     Validation
	Documentation  Documentation
}

// JobNames returns the job names, sorted.
func (c *Config) JobNames() []string { return sortedKeys(c.Jobs) }

// RepositoryNames returns the repository names, sorted.
func (c *Config) RepositoryNames() []string { return sortedKeys(c.Repositories) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Repository is one [repositories.NAME] table.
type Repository struct {
	Name            string
	URL             string // anything `hbackup -r` accepts
	PasswordFile    string // absolute
	EnvironmentFile string // absolute; KEY=VALUE lines such as B2 credentials
	Primary         bool   // jobs without `repository` back up here
	AppendOnly      bool   // never forget or prune in it
}

// Job is one [jobs.NAME] table, with global defaults merged in.
type Job struct {
	Name       string
	Paths      []string
	ZFS        []string // datasets to snapshot and back up from the snapshot
	Repository string   // a key of Config.Repositories
	CopyTo     []string // further repositories each new snapshot is copied to
	Tags       []string
	Exclude    []string

	PreBackup  *Hook // nil when not configured
	PostBackup *Hook
	OnFailure  *Hook

	Resources       Resources
	Schedule        *schedule.Schedule // nil: runs only when named
	Retention       Retention
	Compression     string // "" leaves the repository's default
	ReadConcurrency int    // 0 leaves the engine's default
	Retries         int    // job-level retries for retryable errors
	RetryDelay      time.Duration

	// Healthchecks is the job's check: the job's own [jobs.NAME.healthchecks]
	// merged over [monitoring.healthchecks]; nil when neither exists.
	Healthchecks *Healthchecks
}

// Hook is a shell command run with /bin/sh -c.
type Hook struct {
	Command string
	Timeout time.Duration
}

// Resources limit what a job may use; zero values mean no limit.
type Resources struct {
	CPUs       float64 // e.g. 1.5; becomes CPUQuota=150%
	Memory     int64   // bytes; becomes MemoryMax=
	IOClass    string  // "", "idle", "best-effort" or "realtime"
	IOPriority int     // 0 (highest) .. 7 for best-effort and realtime
	Nice       int     // -20 .. 19
}

// Retention is a forget policy. -1 keeps an unlimited number.
type Retention struct {
	Last, Hourly, Daily, Weekly, Monthly, Yearly int
	Prune                                        bool // prune after forget
}

// Monitoring says where outcomes are reported.
type Monitoring struct {
	LogDir        string
	Ntfy          *Ntfy         // nil when not configured
	Healthchecks  *Healthchecks // the global part; see Job.Healthchecks
	Prometheus    Prometheus
	ErrorAnalysis ErrorAnalysis
}

// Outcomes of a run, as notifications and priorities name them.
const (
	OutcomeStart   = "start"
	OutcomeSuccess = "success"
	OutcomeWarning = "warning"
	OutcomeFailure = "failure"
)

// Ntfy sends notifications to an ntfy topic.
type Ntfy struct {
	URL          string // topic URL, e.g. https://ntfy.sh/backups
	Token        string
	TokenFile    string
	Username     string
	Password     string
	PasswordFile string
	On           []string       // outcomes that notify; default warning and failure
	Priority     map[string]int // outcome → 1..5; defaults start 2, success 2, warning 4, failure 5
}

// Healthchecks pings a Healthchecks.io check.
type Healthchecks struct {
	BaseURL  string // default https://hc-ping.com
	URL      string // the full ping URL; or
	UUID     string // the check's UUID; or
	UUIDFile string // a file holding it
	Start    bool   // send /start when a job begins (default true)
	LogLines int    // lines of log tail sent with /fail
}

// Prometheus says where metrics go.
type Prometheus struct {
	TextfileDir string // node_exporter textfile collector directory
	Listen      string // host:port for `hbackup exporter`
}

// ErrorAnalysis holds the user's classification rules, tried before the
// built-in ones.
type ErrorAnalysis struct {
	DisableDefaults bool
	Rules           []errclass.Rule
}

// Verification runs `check` with a rotating subset of the data.
type Verification struct {
	Schedule       *schedule.Schedule
	ReadDataSubset string // "5%", "1/7" or a size; "" reads no data
}

// RestoreTesting restores sample files and compares them.
type RestoreTesting struct {
	Schedule       *schedule.Schedule
	SampleFiles    int
	TestDir        string
	RetainTestData bool
}

// Validation are the pre-flight and health thresholds.
type Validation struct {
	MinFreeSpace   int64 // bytes; 0 disables the check
	NetworkTimeout time.Duration
	MaxAge         time.Duration // of the last snapshot
	MinBackups     int
}

// Documentation configures `hbackup docs`.
type Documentation struct {
	OutputDir      string
	IncludeMetrics bool
}
