package zfs

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// SendOptions selects what Send streams.
type SendOptions struct {
	// Snapshot is the snapshot to send ("pool/ds@snap").
	Snapshot string
	// From makes the stream incremental from this snapshot or bookmark
	// (full name, or "@snap"/"#mark" relative to Snapshot's dataset).
	From string
	// Intermediates sends every snapshot between From and Snapshot (-I
	// rather than -i).
	Intermediates bool
	Raw           bool // -w: encrypted data as stored; needs OpenZFS
	Properties    bool // -p: include the dataset's properties
	Replicate     bool // -R: descendants, their snapshots and properties
	// ResumeToken resumes an interrupted stream (send -t); all other
	// fields are then ignored, the token carries them.
	ResumeToken string
}

// sendArgs builds the zfs send command line.
func sendArgs(o SendOptions, caps Capabilities) ([]string, error) {
	if o.ResumeToken != "" {
		if !caps.ResumeSend {
			return nil, unsupported("resuming a send from a token (zfs send -t)")
		}
		return []string{"send", "-t", o.ResumeToken}, nil
	}
	if !strings.Contains(o.Snapshot, "@") {
		return nil, fmt.Errorf("zfs send: %q is not a snapshot", o.Snapshot)
	}
	args := []string{"send"}
	if o.Raw {
		if !caps.RawSend {
			return nil, unsupported("raw sends (zfs send -w)")
		}
		args = append(args, "-w")
	}
	if o.Properties {
		args = append(args, "-p")
	}
	if o.Replicate {
		args = append(args, "-R")
	}
	if o.From != "" {
		flag := "-i"
		if o.Intermediates {
			flag = "-I"
		}
		args = append(args, flag, o.From)
	}
	return append(args, o.Snapshot), nil
}

// Send runs zfs send and writes the stream to w. Cancelling ctx kills
// the command.
func (r *Runner) Send(ctx context.Context, opts SendOptions, w io.Writer) error {
	caps, err := r.Capabilities(ctx)
	if err != nil {
		return err
	}
	args, err := sendArgs(opts, caps)
	if err != nil {
		return err
	}
	return r.stream(ctx, r.zfsBin(), args, nil, w)
}

// ReceiveOptions controls Receive.
type ReceiveOptions struct {
	// Target is the filesystem (or snapshot) to receive into.
	Target string
	Force  bool // -F: roll back the target to its latest snapshot first, and for a full stream overwrite it
	// NoMount leaves the received filesystem unmounted (-u); needs OpenZFS.
	NoMount bool
	// Resumable keeps a partially received stream so the transfer can be
	// resumed with the target's receive_resume_token (-s); needs OpenZFS.
	Resumable bool
	// Props are set on the received filesystem (-o k=v); needs OpenZFS.
	Props map[string]string
}

func receiveArgs(o ReceiveOptions, caps Capabilities) ([]string, error) {
	if o.Target == "" {
		return nil, fmt.Errorf("zfs receive: no target")
	}
	args := []string{"receive"}
	if o.Force {
		args = append(args, "-F")
	}
	if o.NoMount {
		if !caps.ReceiveNoMount {
			return nil, unsupported("receiving without mounting (zfs receive -u)")
		}
		args = append(args, "-u")
	}
	if o.Resumable {
		if !caps.ResumableReceive {
			return nil, unsupported("resumable receive (zfs receive -s)")
		}
		args = append(args, "-s")
	}
	if len(o.Props) > 0 {
		if !caps.ResumableReceive { // -o came with -s in OpenZFS 0.7+
			return nil, unsupported("properties on receive (zfs receive -o)")
		}
		args = append(args, propArgs(o.Props)...)
	}
	return append(args, o.Target), nil
}

// Receive runs zfs receive with the stream read from rd.
func (r *Runner) Receive(ctx context.Context, opts ReceiveOptions, rd io.Reader) error {
	caps, err := r.Capabilities(ctx)
	if err != nil {
		return err
	}
	args, err := receiveArgs(opts, caps)
	if err != nil {
		return err
	}
	return r.stream(ctx, r.zfsBin(), args, rd, io.Discard)
}

// ResumeToken returns the receive_resume_token of a dataset that holds a
// partially received stream, or "" when there is none (always "" on a zfs
// without resumable receive). A missing dataset gives ErrNotExist.
func (r *Runner) ResumeToken(ctx context.Context, dataset string) (string, error) {
	caps, err := r.Capabilities(ctx)
	if err != nil {
		return "", err
	}
	if !caps.ResumableReceive {
		if _, err := r.Get(ctx, dataset, "name"); err != nil {
			return "", err
		}
		return "", nil
	}
	p, err := r.Get(ctx, dataset, "receive_resume_token")
	if err != nil {
		return "", err
	}
	if t := p["receive_resume_token"]; t != "-" {
		return t, nil
	}
	return "", nil
}

// AbortResume discards a partially received stream (receive -A), so the
// next transfer starts over.
func (r *Runner) AbortResume(ctx context.Context, dataset string) error {
	caps, err := r.Capabilities(ctx)
	if err != nil {
		return err
	}
	if !caps.ReceiveAbort {
		return unsupported("aborting a resumable receive (zfs receive -A)")
	}
	_, err = r.zfs(ctx, "receive", "-A", dataset)
	return err
}
