package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hbackup/hbackup/job/config"
	"github.com/hbackup/hbackup/job/docs"
	"github.com/spf13/pflag"
)

// defaultConfigPath is the --config default of the commands that read
// hbackup.toml: $HBACKUP_CONFIG, else /etc/hbackup/hbackup.toml.
func defaultConfigPath() string {
	if v := os.Getenv("HBACKUP_CONFIG"); v != "" {
		return v
	}
	return "/etc/hbackup/hbackup.toml"
}

// loadConfigAbs loads hbackup.toml by its absolute path, so what is
// derived from it (runbooks, systemd units) names the file unambiguously.
func loadConfigAbs(path string) (*config.Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return config.Load(abs)
}

func docsCommand() *command {
	return &command{
		name:  "docs",
		usage: "",
		short: "Write this host's backup runbook from hbackup.toml",
		long: `The "docs" command writes a Markdown runbook for this host: what every job
backs up and where, schedules with their next runs, retention, verification,
monitoring, where the keys and secrets live (by path only; no secret is
printed), and the exact hbackup and restic command lines to restore one file
or the whole system. With documentation.include_metrics it adds the current
metrics and each job's last outcome.

It writes HOST.md into documentation.output_dir, or into --output DIR, or to
standard output with --stdout.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			var o docsOptions
			fs.StringVar(&o.config, "config", defaultConfigPath(), "read the configuration from `file`; $HBACKUP_CONFIG sets the default")
			fs.StringVar(&o.output, "output", "", "write the runbook into `directory` instead of documentation.output_dir")
			fs.BoolVar(&o.stdout, "stdout", false, "print the runbook instead of writing a file")
			fs.StringVar(&o.hostname, "hostname", "", "host `name` in the runbook (default: the configuration's hostname, else this machine's)")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return fmt.Errorf("docs takes no arguments, got %q", args)
				}
				return runDocs(ctx, g, o)
			}
		},
	}
}

type docsOptions struct {
	config, output, hostname string
	stdout                   bool
}

func runDocs(ctx context.Context, g *globalOptions, o docsOptions) error {
	if o.stdout && o.output != "" {
		return errors.New("--stdout and --output cannot both be given")
	}
	c, err := loadConfigAbs(o.config)
	if err != nil {
		return err
	}
	opts := docs.Options{Hostname: o.hostname}
	if o.stdout {
		return docs.Render(ctx, g.stdout, c, opts)
	}
	dir := o.output
	if dir == "" {
		dir = c.Documentation.OutputDir
	}
	if dir == "" {
		return fmt.Errorf("no output directory: set documentation.output_dir in %s, or pass --output DIR or --stdout", c.File)
	}
	path, err := docs.WriteFile(ctx, dir, c, opts)
	if err != nil {
		return err
	}
	g.printf("wrote runbook %s\n", path)
	return nil
}
