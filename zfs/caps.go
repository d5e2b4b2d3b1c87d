package zfs

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"regexp"
	"strings"
)

// Capabilities are the features of the installed zfs command, read from
// its usage text ("zfs -?"), which every version prints. zfs-fuse 0.7
// lacks most of them; OpenZFS 2.x has all but JSON, which came in 2.3.
type Capabilities struct {
	ListParsable      bool // zfs list -p (zfs get -p works everywhere)
	JSON              bool // zfs list/get -j
	GetTypes          bool // zfs get -t
	MultiSnapshot     bool // zfs snapshot a@x b@y in one atomic command
	Bookmarks         bool // zfs bookmark
	Holds             bool // zfs holds lists tags (zfs-fuse's needs a missing pyzfs.py)
	RawSend           bool // zfs send -w
	ResumeSend        bool // zfs send -t TOKEN
	ResumableReceive  bool // zfs receive -s
	ReceiveNoMount    bool // zfs receive -u
	ReceiveAbort      bool // zfs receive -A
	DestroyMultiSnaps bool // zfs destroy pool/ds@a,b,c
}

// usageLine finds the usage line(s) of command in a usage text: the
// lines starting with "\tcommand " (OpenZFS writes "snapshot|snap").
func usageLines(text, command string) []string {
	var out []string
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		t := strings.TrimSpace(l)
		name, _, _ := strings.Cut(t, " ")
		match := name == command
		for _, alias := range strings.Split(name, "|") {
			match = match || alias == command
		}
		if !match || !strings.HasPrefix(l, "\t") {
			continue
		}
		// Continuation lines are indented deeper.
		for j := i + 1; j < len(lines) && strings.HasPrefix(lines[j], "\t    "); j++ {
			t += " " + strings.TrimSpace(lines[j])
		}
		out = append(out, t)
	}
	return out
}

var optGroup = regexp.MustCompile(`\[-([A-Za-z]+)\]|\[-([A-Za-z])[ \]|]`)

// hasFlag reports whether one of lines documents the single-letter flag.
func hasFlag(lines []string, flag byte) bool {
	for _, l := range lines {
		for _, m := range optGroup.FindAllStringSubmatch(l, -1) {
			if strings.IndexByte(m[1]+m[2], flag) >= 0 {
				return true
			}
		}
		if strings.Contains(l, " -"+string(flag)+" ") || strings.HasSuffix(l, " -"+string(flag)) {
			return true
		}
	}
	return false
}

// ParseUsage reads Capabilities from the output of "zfs -?".
func ParseUsage(text string) Capabilities {
	list := usageLines(text, "list")
	get := usageLines(text, "get")
	snap := usageLines(text, "snapshot")
	send := usageLines(text, "send")
	recv := usageLines(text, "receive")
	holds := usageLines(text, "holds")
	c := Capabilities{
		ListParsable:     hasFlag(list, 'p'),
		JSON:             hasFlag(list, 'j') && hasFlag(get, 'j'),
		GetTypes:         hasFlag(get, 't'),
		Bookmarks:        len(usageLines(text, "bookmark")) > 0,
		RawSend:          hasFlag(send, 'w'),
		ResumableReceive: hasFlag(recv, 's'),
		ReceiveNoMount:   hasFlag(recv, 'u'),
		ReceiveAbort:     hasFlag(recv, 'A'),
	}
	for _, l := range snap {
		c.MultiSnapshot = c.MultiSnapshot || strings.HasSuffix(l, "...")
	}
	for _, l := range send {
		c.ResumeSend = c.ResumeSend || strings.Contains(l, "-t <")
	}
	// zfs-fuse's "holds [-r]" has no -H: it is the python script that is
	// missing; OpenZFS's has "holds [-rHp]".
	c.Holds = hasFlag(holds, 'H')
	// Bookmarks arrived with the same feature set as the comma syntax.
	c.DestroyMultiSnaps = c.Bookmarks
	return c
}

// Capabilities probes the zfs command once per Runner and caches the
// answer. A wrapper (ssh, sudo) is used as for every other command.
func (r *Runner) Capabilities(ctx context.Context) (Capabilities, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.caps != nil {
		return *r.caps, nil
	}
	// "zfs -?" exits 0 on zfs-fuse and 2 on some OpenZFS versions; the
	// usage text is what matters, on stdout or stderr.
	cmd := r.command(ctx, r.zfsBin(), []string{"-?"})
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return Capabilities{}, err
	}
	if !strings.Contains(out.String(), "send") {
		return Capabilities{}, &CommandError{Args: cmd.Args, Stderr: out.String(), ExitCode: cmd.ProcessState.ExitCode(), Kind: ErrUnavailable}
	}
	c := ParseUsage(out.String())
	r.caps = &c
	return c, nil
}

// SetCapabilities overrides the probe, for tests and for callers who know
// their zfs.
func (r *Runner) SetCapabilities(c Capabilities) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.caps = &c
}
