package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hbackup/hbackup/job/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
)

func exporterCommand() *command {
	return &command{
		name:  "exporter",
		usage: "[REPOSITORY] ...",
		short: "Serve Prometheus metrics of the configured repositories",
		long: `The "exporter" command serves the metrics of restic-exporter (restic_snapshots_total,
restic_backup_timestamp, restic_backup_files_total, restic_backup_size_total,
restic_check_success, restic_locks_total, ...) for the named repositories of
the configuration file (default: all) on monitoring.prometheus.listen or
--listen, at /metrics. Repositories are read every --refresh interval, not
on each scrape; --check also runs "check" each time (restic-exporter's
default), otherwise restic_check_success is 2 ("not run").`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			cfgPath := configFlag(fs)
			listen := fs.String("listen", "", "`address` to serve on (default: monitoring.prometheus.listen, else 127.0.0.1:9436)")
			refresh := fs.Duration("refresh", 5*time.Minute, "how often to read the repositories")
			check := fs.Bool("check", false, "run check on every refresh")
			includePaths := fs.Bool("include-paths", false, "fill the snapshot_paths label (restic-exporter's INCLUDE_PATHS)")
			return func(ctx context.Context, args []string) error {
				r, names, err := runnerForRepositories(*cfgPath, g, args)
				if err != nil {
					return err
				}
				collectors := map[string]prometheus.Collector{}
				var refreshers []*metrics.RepositoryCollector
				for _, n := range names {
					c := metrics.NewRepositoryCollector(func(ctx context.Context) (*metrics.RepositoryStats, error) {
						return r.RepositoryStats(ctx, n, *check)
					}, metrics.RepositoryOptions{IncludePaths: *includePaths})
					key := n
					if len(names) == 1 {
						key = "" // one repository: exactly restic-exporter's series
					}
					collectors[key] = c
					refreshers = append(refreshers, c)
				}
				handler, err := metrics.Handler(collectors)
				if err != nil {
					return err
				}
				addr := *listen
				if addr == "" {
					addr = r.Config.Monitoring.Prometheus.Listen
				}
				if addr == "" {
					addr = "127.0.0.1:9436"
				}
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					return fmt.Errorf("exporter: %w", err)
				}
				mux := http.NewServeMux()
				mux.Handle("/metrics", handler)
				srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
				refreshAll := func() {
					for i, c := range refreshers {
						if err := c.Refresh(ctx); err != nil && ctx.Err() == nil {
							fmt.Fprintf(g.stderr, "exporter: %s: %v\n", names[i], err)
						}
					}
				}
				refreshAll()
				fmt.Fprintf(g.stderr, "serving metrics of %d repositories on http://%s/metrics\n", len(names), ln.Addr())
				go func() {
					t := time.NewTicker(*refresh)
					defer t.Stop()
					for {
						select {
						case <-ctx.Done():
							return
						case <-t.C:
							refreshAll()
						}
					}
				}()
				go func() {
					<-ctx.Done()
					sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
					defer cancel()
					_ = srv.Shutdown(sctx)
				}()
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					return err
				}
				return nil
			}
		},
	}
}
