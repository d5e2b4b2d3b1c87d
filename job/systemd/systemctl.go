package systemd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// ErrUnavailable is wrapped when this machine cannot run systemctl:
// the binary is missing or systemd is not the init system.
var ErrUnavailable = errors.New("systemd is not available")

// Systemctl runs the systemctl binary at Path.
type Systemctl struct {
	Path string
}

// Detect finds systemctl and checks that systemd runs this machine, the
// way sd_booted(3) does: /run/systemd/system exists only then.
func Detect() (Systemctl, error) {
	path, err := exec.LookPath("systemctl")
	if err != nil {
		return Systemctl{}, fmt.Errorf("%w: systemctl not found in PATH", ErrUnavailable)
	}
	if fi, err := os.Stat("/run/systemd/system"); err != nil || !fi.IsDir() {
		init, _ := os.ReadFile("/proc/1/comm")
		name := strings.TrimSpace(string(init))
		if name == "" {
			name = "unknown"
		}
		return Systemctl{}, fmt.Errorf("%w: systemd is not running (PID 1 is %s)", ErrUnavailable, name)
	}
	return Systemctl{Path: path}, nil
}

// DaemonReload makes systemd read changed unit files.
func (s Systemctl) DaemonReload(ctx context.Context) error {
	return s.run(ctx, "daemon-reload")
}

// EnableNow enables units and starts them (for timers: arms them).
func (s Systemctl) EnableNow(ctx context.Context, units ...string) error {
	if len(units) == 0 {
		return nil
	}
	return s.run(ctx, append([]string{"enable", "--now"}, units...)...)
}

// DisableNow stops units and disables them.
func (s Systemctl) DisableNow(ctx context.Context, units ...string) error {
	if len(units) == 0 {
		return nil
	}
	return s.run(ctx, append([]string{"disable", "--now"}, units...)...)
}

func (s Systemctl) run(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, s.Path, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}
