package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hbackup/hbackup/job/errclass"
)

// JobSet is the metric set of one job's textfile, built on a private
// registry. Update hands one to its callback, already holding the values
// of the previous file.
type JobSet struct {
	reg *prometheus.Registry

	duration, lastSuccess, lastRun, status   *prometheus.GaugeVec
	bytesAdded, bytesProcessed               *prometheus.GaugeVec
	filesAdded, filesProcessed               *prometheus.GaugeVec
	errorsByCategory, errorsBySeverity, runs *prometheus.CounterVec
	verification, verificationTime           *prometheus.GaugeVec
	restoreTest, restoreTestTime             *prometheus.GaugeVec
	gauges                                   map[string]*prometheus.GaugeVec
	counters                                 map[string]*prometheus.CounterVec
}

func gauge(name, help string, extra ...string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, append(append([]string(nil), labelNames...), extra...))
}

func counter(name, help string, extra ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, append(append([]string(nil), labelNames...), extra...))
}

func newJobSet() *JobSet {
	s := &JobSet{
		reg:              prometheus.NewRegistry(),
		duration:         gauge("restic_backup_duration_seconds", "Duration of the last backup run in seconds."),
		lastSuccess:      gauge("restic_backup_last_success_timestamp", "Unix time the last successful backup finished."),
		lastRun:          gauge("restic_backup_last_run_timestamp", "Unix time the last backup run finished, whatever its outcome."),
		status:           gauge("restic_backup_status", "Outcome of the last backup: 0 failure, 1 success, 2 success with unreadable files."),
		bytesAdded:       gauge("restic_backup_bytes_added", "Bytes of new data the last backup added to the repository."),
		bytesProcessed:   gauge("restic_backup_bytes_processed", "Bytes the last backup read from the sources."),
		filesAdded:       gauge("restic_backup_files_added", "Files the last backup found new."),
		filesProcessed:   gauge("restic_backup_files_processed", "Files the last backup processed."),
		errorsByCategory: counter("backup_errors_by_category_total", "Errors seen by the job, by category.", "category"),
		errorsBySeverity: counter("backup_errors_by_severity_total", "Errors seen by the job, by severity.", "severity"),
		runs:             counter("restic_backup_runs_total", "Backup runs, by outcome.", "status"),
		verification:     gauge("restic_verification_status", "Outcome of the last verification: 0 failure, 1 success."),
		verificationTime: gauge("restic_verification_last_run_timestamp", "Unix time the last verification finished."),
		restoreTest:      gauge("restic_restore_test_status", "Outcome of the last restore test: 0 failure, 1 success."),
		restoreTestTime:  gauge("restic_restore_test_last_run_timestamp", "Unix time the last restore test finished."),
	}
	s.gauges = map[string]*prometheus.GaugeVec{}
	s.counters = map[string]*prometheus.CounterVec{}
	for name, g := range map[string]*prometheus.GaugeVec{
		"restic_backup_duration_seconds": s.duration, "restic_backup_last_success_timestamp": s.lastSuccess,
		"restic_backup_last_run_timestamp": s.lastRun, "restic_backup_status": s.status,
		"restic_backup_bytes_added": s.bytesAdded, "restic_backup_bytes_processed": s.bytesProcessed,
		"restic_backup_files_added": s.filesAdded, "restic_backup_files_processed": s.filesProcessed,
		"restic_verification_status": s.verification, "restic_verification_last_run_timestamp": s.verificationTime,
		"restic_restore_test_status": s.restoreTest, "restic_restore_test_last_run_timestamp": s.restoreTestTime,
	} {
		s.gauges[name] = g
		s.reg.MustRegister(g)
	}
	for name, c := range map[string]*prometheus.CounterVec{
		"backup_errors_by_category_total": s.errorsByCategory, "backup_errors_by_severity_total": s.errorsBySeverity,
		"restic_backup_runs_total": s.runs,
	} {
		s.counters[name] = c
		s.reg.MustRegister(c)
	}
	return s
}

// restore loads the samples of a previous file. Families this version does
// not write are dropped; samples with unexpected labels are skipped.
func (s *JobSet) restore(families map[string]*dto.MetricFamily) {
	for name, mf := range families {
		g, isGauge := s.gauges[name]
		c, isCounter := s.counters[name]
		for _, m := range mf.GetMetric() {
			labels := prometheus.Labels{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			switch {
			case isGauge && m.GetGauge() != nil:
				if v, err := g.GetMetricWith(labels); err == nil {
					v.Set(m.GetGauge().GetValue())
				}
			case isCounter && m.GetCounter() != nil:
				if v, err := c.GetMetricWith(labels); err == nil && m.GetCounter().GetValue() >= 0 {
					v.Add(m.GetCounter().GetValue())
				}
			}
		}
	}
}

func seconds(t interface{ UnixNano() int64 }) float64 { return float64(t.UnixNano()) / 1e9 }

// Backup records a backup run.
func (s *JobSet) Backup(b Backup) {
	l := b.Labels.values()
	s.duration.WithLabelValues(l...).Set(b.End.Sub(b.Start).Seconds())
	s.lastRun.WithLabelValues(l...).Set(seconds(b.End))
	s.status.WithLabelValues(l...).Set(float64(b.Status))
	if b.Status != Failure {
		s.lastSuccess.WithLabelValues(l...).Set(seconds(b.End))
	}
	s.bytesAdded.WithLabelValues(l...).Set(float64(b.BytesAdded))
	s.bytesProcessed.WithLabelValues(l...).Set(float64(b.BytesProcessed))
	s.filesAdded.WithLabelValues(l...).Set(float64(b.FilesAdded))
	s.filesProcessed.WithLabelValues(l...).Set(float64(b.FilesProcessed))
	s.runs.WithLabelValues(append(l, statusName(b.Status))...).Inc()
	s.Errors(b.Labels, b.Errors)
}

func statusName(st Status) string {
	switch st {
	case Success:
		return "success"
	case Warning:
		return "warning"
	case Failure:
		return "failure"
	}
	return fmt.Sprint(int(st))
}

// Errors counts classified errors.
func (s *JobSet) Errors(l Labels, errs []errclass.Result) {
	for _, e := range errs {
		s.errorsByCategory.WithLabelValues(append(l.values(), string(e.Category))...).Inc()
		s.errorsBySeverity.WithLabelValues(append(l.values(), string(e.Severity))...).Inc()
	}
}

// Verification records a `check` run.
func (s *JobSet) Verification(c Check) {
	s.verification.WithLabelValues(c.Labels.values()...).Set(boolValue(c.Success))
	s.verificationTime.WithLabelValues(c.Labels.values()...).Set(seconds(c.Time))
	s.Errors(c.Labels, c.Errors)
}

// RestoreTest records a restore test.
func (s *JobSet) RestoreTest(c Check) {
	s.restoreTest.WithLabelValues(c.Labels.values()...).Set(boolValue(c.Success))
	s.restoreTestTime.WithLabelValues(c.Labels.values()...).Set(seconds(c.Time))
	s.Errors(c.Labels, c.Errors)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
