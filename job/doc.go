// Package job runs the backup jobs of an hbackup.toml: pre-flight checks,
// hooks, the backup (from ZFS snapshots where configured), copies to
// secondary repositories, retention, and the reports around them
// (metrics, JSON-lines logs, notifications), with job-level retries for
// errors that the error analysis marks retryable.
//
// Repository work is done by the hbackup command itself, run as a child
// process through an Executor: each job gets its own environment (the
// repository's environment file, resource limits) and a crash in one job
// cannot take the reporting down with it. The library stays free of
// backend code; cmd/hbackup passes its own executable.
package job
