package sftp

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
)

// dialCommand runs argv and speaks SFTP over its standard input and
// output, as restic does with -o sftp.command.
func dialCommand(ctx context.Context, argv []string) (*conn, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	// Its own process group: a Ctrl-C meant for hbackup must not kill
	// the transport before hbackup has cleaned up (removed its lock).
	setProcessGroup(cmd)
	stderr := &tailBuffer{max: 4096}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %q: %w", strings.Join(argv, " "), err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	kill := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	stop := context.AfterFunc(ctx, kill)
	client, err := sftp.NewClientPipe(stdout, stdin, clientOptions()...)
	if !stop() {
		if err == nil {
			_ = client.Close()
		}
		return nil, fmt.Errorf("run %q: %w", strings.Join(argv, " "), ctx.Err())
	}
	if err != nil {
		kill()
		return nil, fmt.Errorf("run %q: %w (exit: %v; stderr: %q)", strings.Join(argv, " "), err, waitErr, stderr.String())
	}
	return newConn(client, func() error {
		// Closing stdin ends the session and ssh; Close waits for
		// that, so a hung ssh is killed after a while.
		closed := make(chan error, 1)
		go func() { closed <- client.Close() }()
		var err error
		select {
		case err = <-closed:
		case <-time.After(5 * time.Second):
			kill()
			err = <-closed
		}
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			kill()
		}
		return err
	}), nil
}

// tailBuffer keeps the last max bytes written to it: the end of the
// command's stderr explains why it failed.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(t.buf.String())
}

// splitCommand splits a command line into words as a POSIX shell would,
// for quotes and backslashes only: no variables, globs or operators.
func splitCommand(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
		quote rune // the open quote, or 0
	)
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case quote == '"':
			switch {
			case r == '"':
				quote = 0
			case r == '\\' && i+1 < len(rs) && strings.ContainsRune(`"\$`+"`", rs[i+1]):
				i++
				cur.WriteRune(rs[i])
			default:
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == '\\':
			if i+1 < len(rs) {
				i++
				cur.WriteRune(rs[i])
				in = true
			}
		case r == ' ' || r == '\t' || r == '\n':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, s)
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}
