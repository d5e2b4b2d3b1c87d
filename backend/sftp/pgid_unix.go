//go:build unix

package sftp

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts cmd in a process group of its own, so signals
// sent to the terminal's foreground group do not reach it.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
