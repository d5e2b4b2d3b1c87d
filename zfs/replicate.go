package zfs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"
)

// DefaultReplicationPrefix names the snapshots Replicate takes.
const DefaultReplicationPrefix = "hbackup-repl"

// ReplicateOptions controls Replicate.
type ReplicateOptions struct {
	Source string // dataset on the source Runner
	Target string // dataset on the target Runner; created by the first run

	Raw        bool // send -w: encrypted datasets stay encrypted (OpenZFS)
	NoMount    bool // receive -u: leave the target unmounted (OpenZFS)
	Properties bool // send -p: copy the dataset's properties
	// Force allows destroying data on the target: rolling it back to the
	// last common snapshot when it has newer ones, and when it has no
	// snapshot in common with the source, destroying it and sending
	// everything again. Without Force those cases return an error.
	Force bool
	// NoSnapshot sends the existing snapshots only; by default a new
	// snapshot (Prefix + "_" + time) is taken first.
	NoSnapshot bool
	Prefix     string // of the snapshots Replicate takes; "" means DefaultReplicationPrefix
	// HoldTag marks the last snapshot both sides have, on both sides, so
	// that snapshot pruning never removes it. "" means
	// "hbackup-repl:" + Target.
	HoldTag string

	BytesPerSecond int64       // bandwidth limit; 0 is unlimited
	Progress       func(int64) // called with the running byte count of the current stream
	Logger         *slog.Logger
	Now            func() time.Time // for the snapshot name; nil means time.Now
}

// ReplicateResult says what Replicate did.
type ReplicateResult struct {
	Created string // the snapshot taken by this run, or ""
	Resumed bool   // an interrupted receive was resumed from its token
	Full    bool   // a full stream was sent
	Common  string // the snapshot (name after @) both sides had before, or ""
	Latest  string // the newest snapshot (name after @) both sides have now
	Bytes   int64  // stream bytes sent
}

// Replicate makes Target on dst a copy of Source on src, syncoid style: a
// full stream of the oldest snapshot the first time, then incremental
// streams (-I, with every intermediate snapshot) from the newest snapshot
// the two sides have in common, found by GUID. An interrupted receive is
// resumed from its token where the target's zfs supports it. dst and src
// may be the same Runner, or reach another host through ssh
// (Runner.Wrapper).
//
// When the target exists but shares no snapshot with the source the
// result is ErrNoCommonSnapshot, never a full stream over existing data,
// unless Force is set. On failure the snapshot taken by this run is
// destroyed and the holds placed by it released.
func Replicate(ctx context.Context, src, dst *Runner, o ReplicateOptions) (res ReplicateResult, err error) {
	if o.Source == "" || o.Target == "" {
		return res, errors.New("zfs replicate: source and target datasets are required")
	}
	if o.Prefix == "" {
		o.Prefix = DefaultReplicationPrefix
	}
	if o.HoldTag == "" {
		o.HoldTag = "hbackup-repl:" + o.Target
	}
	if _, err := src.Dataset(ctx, o.Source); err != nil {
		return res, fmt.Errorf("zfs replicate: source %s: %w", o.Source, err)
	}
	if !o.NoSnapshot {
		now := time.Now
		if o.Now != nil {
			now = o.Now
		}
		name := o.Prefix + "_" + now().UTC().Format("2006-01-02_15:04:05.000")
		if err := src.Snapshot(ctx, []string{o.Source + "@" + name}, false, nil); err != nil {
			return res, fmt.Errorf("zfs replicate: %w", err)
		}
		res.Created = name
		defer func() {
			if err != nil {
				// Leave nothing behind; a cancelled ctx must not stop the cleanup.
				cctx := context.WithoutCancel(ctx)
				if derr := src.Destroy(cctx, o.Source+"@"+name, DestroyOptions{}); derr != nil {
					err = errors.Join(err, fmt.Errorf("cleanup: %w", derr))
				}
			}
		}()
	}
	rep := &replication{src: src, dst: dst, o: o, res: &res}
	err = rep.run(ctx)
	return res, err
}

type replication struct {
	src, dst *Runner
	o        ReplicateOptions
	res      *ReplicateResult
}

func (p *replication) logf(ctx context.Context, msg string, args ...any) {
	if p.o.Logger != nil {
		p.o.Logger.InfoContext(ctx, msg, args...)
	}
}

func (p *replication) run(ctx context.Context) error {
	o := p.o
	if err := p.resume(ctx); err != nil {
		return err
	}
	srcSnaps, err := p.src.Snapshots(ctx, o.Source, false)
	if err != nil {
		return fmt.Errorf("zfs replicate: source %s: %w", o.Source, err)
	}
	if len(srcSnaps) == 0 {
		return fmt.Errorf("zfs replicate: source %s has no snapshot to send", o.Source)
	}
	newest := srcSnaps[len(srcSnaps)-1]
	dstSnaps, err := p.dst.Snapshots(ctx, o.Target, false)
	switch {
	case errors.Is(err, ErrNotExist):
		return p.initial(ctx, srcSnaps)
	case err != nil:
		return fmt.Errorf("zfs replicate: target %s: %w", o.Target, err)
	}
	common, ok := lastCommon(srcSnaps, dstSnaps)
	if !ok {
		if !o.Force {
			if len(dstSnaps) == 0 {
				return fmt.Errorf("zfs replicate: target %s exists and has no snapshots, none in common with %s (use force to destroy it and send everything again): %w", o.Target, o.Source, ErrNoCommonSnapshot)
			}
			return fmt.Errorf("zfs replicate: target %s has %d snapshots but none in common with %s (use force to destroy it and send everything again): %w", o.Target, len(dstSnaps), o.Source, ErrNoCommonSnapshot)
		}
		p.logf(ctx, "no common snapshot: destroying target", "target", o.Target)
		// Unmount first: a busy target then fails before anything of it
		// is destroyed (destroy -r removes snapshots before the filesystem).
		if d, err := p.dst.Dataset(ctx, o.Target); err == nil && d.Mounted {
			if err := p.dst.Unmount(ctx, o.Target, false); err != nil {
				return fmt.Errorf("zfs replicate: target %s: %w", o.Target, err)
			}
		}
		if err := p.dst.Destroy(ctx, o.Target, DestroyOptions{Recursive: true}); err != nil {
			return fmt.Errorf("zfs replicate: destroying target %s: %w", o.Target, err)
		}
		return p.initial(ctx, srcSnaps)
	}
	p.res.Common = common.Name
	if last := dstSnaps[len(dstSnaps)-1]; last.GUID != common.GUID {
		if !o.Force {
			return fmt.Errorf("zfs replicate: target %s has snapshots newer than the last common one @%s (newest @%s; use force to roll back)", o.Target, common.Name, last.Name)
		}
		if _, err := p.dst.zfs(ctx, "rollback", "-r", o.Target+"@"+common.Name); err != nil {
			return fmt.Errorf("zfs replicate: %w", err)
		}
	}
	if newest.GUID == common.GUID {
		p.res.Latest = common.Name
		return p.mark(ctx, common.Name, "")
	}
	if err := p.send(ctx, SendOptions{Snapshot: newest.FullName(), From: "@" + common.Name, Intermediates: true}, true); err != nil {
		return err
	}
	p.res.Latest = newest.Name
	return p.mark(ctx, newest.Name, common.Name)
}

// initial sends the oldest snapshot in full, then the rest incrementally.
func (p *replication) initial(ctx context.Context, srcSnaps []Snapshot) error {
	o := p.o
	if parent := path.Dir(o.Target); parent != "." {
		if _, err := p.dst.Dataset(ctx, parent); errors.Is(err, ErrNotExist) {
			if err := p.dst.CreateAll(ctx, parent, nil); err != nil {
				return fmt.Errorf("zfs replicate: creating target parent %s: %w", parent, err)
			}
		} else if err != nil {
			return fmt.Errorf("zfs replicate: target parent %s: %w", parent, err)
		}
	}
	oldest, newest := srcSnaps[0], srcSnaps[len(srcSnaps)-1]
	p.res.Full = true
	if err := p.send(ctx, SendOptions{Snapshot: oldest.FullName()}, false); err != nil {
		return err
	}
	if newest.GUID != oldest.GUID {
		if err := p.send(ctx, SendOptions{Snapshot: newest.FullName(), From: "@" + oldest.Name, Intermediates: true}, true); err != nil {
			return err
		}
	}
	p.res.Latest = newest.Name
	return p.mark(ctx, newest.Name, "")
}

// send runs one stream into the target; incremental streams roll back
// changes made on a mounted target since its last snapshot (receive -F).
func (p *replication) send(ctx context.Context, so SendOptions, incremental bool) error {
	so.Raw, so.Properties = p.o.Raw, p.o.Properties
	dstCaps, err := p.dst.Capabilities(ctx)
	if err != nil {
		return err
	}
	if so.From != "" && strings.HasPrefix(so.From, "@") {
		so.From = strings.SplitN(so.Snapshot, "@", 2)[0] + so.From
	}
	ro := ReceiveOptions{Target: p.o.Target, Force: incremental, NoMount: p.o.NoMount, Resumable: dstCaps.ResumableReceive}
	p.logf(ctx, "zfs send", "snapshot", so.Snapshot, "from", so.From, "target", p.o.Target)
	n, err := transfer(ctx, p.src, p.dst, so, ro, p.o)
	p.res.Bytes += n
	return err
}

// resume finishes an interrupted receive from its token.
func (p *replication) resume(ctx context.Context) error {
	tok, err := p.dst.ResumeToken(ctx, p.o.Target)
	if errors.Is(err, ErrNotExist) || err == nil && tok == "" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("zfs replicate: target %s: %w", p.o.Target, err)
	}
	p.logf(ctx, "resuming interrupted receive", "target", p.o.Target)
	ro := ReceiveOptions{Target: p.o.Target, NoMount: p.o.NoMount, Resumable: true}
	n, err := transfer(ctx, p.src, p.dst, SendOptions{ResumeToken: tok}, ro, p.o)
	p.res.Bytes += n
	if err != nil {
		return fmt.Errorf("zfs replicate: resuming the interrupted receive into %s (zfs receive -A %s discards it): %w", p.o.Target, p.o.Target, err)
	}
	p.res.Resumed = true
	return nil
}

// mark holds latest on both sides as the new last common snapshot,
// releases the previous one, and destroys older snapshots this replication
// took (unless held for another reason).
func (p *replication) mark(ctx context.Context, latest, previous string) error {
	o := p.o
	for _, side := range []struct {
		r  *Runner
		ds string
	}{{p.src, o.Source}, {p.dst, o.Target}} {
		if err := side.r.Hold(ctx, o.HoldTag, side.ds+"@"+latest); err != nil && !errors.Is(err, ErrExists) {
			return fmt.Errorf("zfs replicate: %w", err)
		}
		if previous != "" && previous != latest {
			if err := side.r.Release(ctx, o.HoldTag, side.ds+"@"+previous); err != nil && !errors.Is(err, ErrNotExist) {
				return fmt.Errorf("zfs replicate: %w", err)
			}
		}
		snaps, err := side.r.Snapshots(ctx, side.ds, false)
		if err != nil {
			return fmt.Errorf("zfs replicate: %w", err)
		}
		for _, s := range snaps {
			if s.Name == latest {
				break // sorted by txg: the rest is newer
			}
			if strings.HasPrefix(s.Name, o.Prefix+"_") && s.UserRefs == 0 {
				if err := side.r.Destroy(ctx, s.FullName(), DestroyOptions{}); err != nil && !errors.Is(err, ErrBusy) {
					return fmt.Errorf("zfs replicate: pruning %s: %w", s.FullName(), err)
				}
			}
		}
	}
	return nil
}

// lastCommon returns the newest source snapshot whose GUID the target has.
func lastCommon(src, dst []Snapshot) (Snapshot, bool) {
	have := make(map[uint64]bool, len(dst))
	for _, s := range dst {
		have[s.GUID] = true
	}
	for i := len(src) - 1; i >= 0; i-- {
		if have[src[i].GUID] {
			return src[i], true
		}
	}
	return Snapshot{}, false
}
