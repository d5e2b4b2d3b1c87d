package main

// sample is one timed process.
type sample struct {
	Run      int     `json:"run"`
	First    bool    `json:"first"` // ran first within its run
	Seconds  float64 `json:"seconds"`
	CPU      float64 `json:"cpu_seconds"` // user + system: steadier than wall time on a busy machine
	MaxRSS   int64   `json:"max_rss_bytes"`
	Bytes    int64   `json:"bytes,omitempty"` // what MB/s divides: source data, or the repository for check
	RepoSize int64   `json:"repo_bytes,omitempty"`
	// ServerCPU is what the server spent on the run (backup-sftp: sshd).
	ServerCPU float64        `json:"server_cpu_seconds,omitempty"`
	Summary   *backupSummary `json:"backup_summary,omitempty"`
}

// toolResult aggregates one tool's samples in one scenario.
type toolResult struct {
	NA       string   `json:"na,omitempty"` // why the tool did not run the scenario
	Samples  []sample `json:"samples,omitempty"`
	Median   float64  `json:"median_seconds,omitempty"`
	Min      float64  `json:"min_seconds,omitempty"`
	Max      float64  `json:"max_seconds,omitempty"`
	CPU      float64  `json:"median_cpu_seconds,omitempty"`
	PeakRSS  int64    `json:"peak_rss_bytes,omitempty"`    // the largest over all runs
	RepoSize int64    `json:"median_repo_bytes,omitempty"` // compression scenarios
	MBps     float64  `json:"mb_per_second,omitempty"`
}

// finish computes the aggregates from the samples.
func (r *toolResult) finish() {
	if len(r.Samples) == 0 {
		return
	}
	var secs, cpu, sizes, bytes []float64
	for _, s := range r.Samples {
		secs = append(secs, s.Seconds)
		cpu = append(cpu, s.CPU)
		r.PeakRSS = max(r.PeakRSS, s.MaxRSS)
		if s.RepoSize > 0 {
			sizes = append(sizes, float64(s.RepoSize))
		}
		bytes = append(bytes, float64(s.Bytes))
	}
	r.Median = median(secs)
	r.Min, r.Max = minMax(secs)
	r.CPU = median(cpu)
	r.RepoSize = int64(median(sizes))
	r.MBps = throughput(int64(median(bytes)), r.Median)
}

// scenarioResult is one line of the table.
type scenarioResult struct {
	Name    string      `json:"name"`
	Title   string      `json:"title"`
	Restic  *toolResult `json:"restic"`
	Hbackup *toolResult `json:"hbackup"`
	Ratio   float64     `json:"ratio,omitempty"`   // restic median / hbackup median; absent when n/a
	Skipped string      `json:"skipped,omitempty"` // why the machine could not run the scenario
	Notes   []string    `json:"notes,omitempty"`
}

func (s *scenarioResult) finish() {
	s.Restic.finish()
	s.Hbackup.finish()
	s.Ratio, _ = ratio(s.Restic.Median, s.Hbackup.Median)
}

// dataInfo describes the generated source tree.
type dataInfo struct {
	Path     string  `json:"path"`
	Scale    float64 `json:"scale"`
	Seed     uint64  `json:"seed"`
	Files    int     `json:"files"`
	Dirs     int     `json:"dirs"`
	Symlinks int     `json:"symlinks"`
	Bytes    int64   `json:"bytes"`
	Digest   string  `json:"digest"`
}

// report is everything the harness prints, and what -json writes.
type report struct {
	Machine    machine           `json:"machine"`
	Data       dataInfo          `json:"data"`
	Runs       int               `json:"runs"`
	DropCaches bool              `json:"drop_caches"`
	Scenarios  []*scenarioResult `json:"scenarios"`
	Bounds     []*boundResult    `json:"bounds,omitempty"`
	Notes      []string          `json:"notes"`
}
