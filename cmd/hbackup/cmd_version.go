package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/spf13/pflag"
)

func versionCommand() *command {
	return &command{
		name:  "version",
		short: "Print version information",
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			return func(ctx context.Context, args []string) error {
				if g.json {
					return writeJSON(g.stdout, map[string]string{"message_type": "version", "version": version,
						"go_version": runtime.Version(), "go_os": runtime.GOOS, "go_arch": runtime.GOARCH})
				}
				fmt.Fprintf(g.stdout, "hbackup %s compiled with %s on %s/%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
				return nil
			}
		},
	}
}
