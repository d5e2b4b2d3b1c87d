package testutil

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// KillSessions kills (SIGKILL) every process sshd started to serve a
// connection, as a crash or a network failure would end them. The server
// keeps listening. It returns how many processes it killed.
func (s *SSHD) KillSessions(t testing.TB) int {
	t.Helper()
	n, err := s.killSessions()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (s *SSHD) killSessions() (int, error) {
	pids, err := descendants(s.cmd.Process.Pid)
	if err != nil {
		return 0, fmt.Errorf("find sshd sessions: %w", err)
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL) // may have exited already
	}
	return len(pids), nil
}

// descendants lists the processes below pid, from /proc (Linux).
func descendants(pid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	children := make(map[int][]int)
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		// The command name in parentheses may hold spaces: the
		// fields after the last ')' are state, then ppid.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 {
			continue
		}
		ppid, err := strconv.Atoi(fields[1])
		if err == nil {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	queue := children[pid]
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, p)
		queue = append(queue, children[p]...)
	}
	return out, nil
}

// clockTicks is the unit of the CPU times in /proc/PID/stat: USER_HZ,
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// SessionsCPU returns the CPU time (user + system) of the sessions sshd
// served and has reaped so far, from /proc (Linux): the difference
// between two calls, with no session running, is what the server spent
// on the sessions between them. A session's processes are reaped shortly
// after its client disconnects, so it waits (up to a second) until no
// session process is left.
func (s *SSHD) SessionsCPU() (time.Duration, error) {
	pid := s.cmd.Process.Pid
	for deadline := time.Now().Add(time.Second); ; {
		pids, err := descendants(pid)
		if err != nil {
			return 0, fmt.Errorf("find sshd sessions: %w", err)
		}
		if len(pids) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, fmt.Errorf("sshd CPU time: %w", err)
	}
	// After the command name: state is field 3 of stat(5), cutime and
	// cstime (the reaped children's) fields 16 and 17.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 15 {
		return 0, fmt.Errorf("sshd CPU time: short /proc stat %q", stat)
	}
	var ticks int64
	for _, f := range fields[13:15] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("sshd CPU time: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
