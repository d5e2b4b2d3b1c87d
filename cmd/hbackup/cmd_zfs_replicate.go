package main

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/hbackup/hbackup/zfs"
)

// zfsEndpoint splits "[user@]host:pool/ds" into host and dataset; a plain
// dataset is local. ZFS names may contain ':', so only a prefix without
// '/' before the first ':' is a host.
func zfsEndpoint(s string) (host, dataset string) {
	h, ds, ok := strings.Cut(s, ":")
	if !ok || h == "" || strings.Contains(h, "/") || ds == "" {
		return "", s
	}
	return h, ds
}

// zfsRunner returns the Runner for host: local, or through ssh.
func zfsRunner(g *globalOptions, o zfsOptions, host string) *zfs.Runner {
	r := &zfs.Runner{Logger: g.logger}
	if host == "" {
		r.ZFS = o.zfsBin
		return r
	}
	wrapper := strings.Fields(o.ssh)
	if len(wrapper) == 0 {
		wrapper = []string{"ssh"}
	}
	if o.sshConfig != "" {
		wrapper = append(wrapper, "-F", o.sshConfig)
	}
	r.Wrapper = append(wrapper, host)
	return r
}

// zfsReplicateJSON is the --json output of replicate.
type zfsReplicateJSON struct {
	Source  string `json:"source"`
	Target  string `json:"target"`
	Created string `json:"created,omitempty"`
	Full    bool   `json:"full"`
	Resumed bool   `json:"resumed"`
	Common  string `json:"common,omitempty"`
	Latest  string `json:"latest"`
	Bytes   int64  `json:"bytes"`
}

func zfsReplicate(ctx context.Context, g *globalOptions, o zfsOptions, srcSpec, dstSpec string) error {
	srcHost, src := zfsEndpoint(srcSpec)
	dstHost, dst := zfsEndpoint(dstSpec)
	ro := zfs.ReplicateOptions{
		Source: src, Target: dst,
		Raw: o.raw, NoMount: o.noMount, Force: o.force, NoSnapshot: o.noSnapshot,
		BytesPerSecond: o.bwlimit * 1024,
		// One hold tag per target, so replications to several targets
		// each protect their own last common snapshot.
		HoldTag: "hbackup-repl:" + dstSpec,
		Logger:  g.logger,
	}
	res, err := zfs.Replicate(ctx, zfsRunner(g, o, srcHost), zfsRunner(g, o, dstHost), ro)
	if err != nil {
		return err
	}
	if g.json {
		return json.NewEncoder(g.stdout).Encode(zfsReplicateJSON{Source: srcSpec, Target: dstSpec, Created: res.Created,
			Full: res.Full, Resumed: res.Resumed, Common: res.Common, Latest: res.Latest, Bytes: res.Bytes})
	}
	kind := "incremental"
	switch {
	case res.Bytes == 0 && !res.Full:
		kind = "up to date"
	case res.Full:
		kind = "full"
	}
	if res.Resumed {
		kind = "resumed, " + kind
	}
	g.printf("%s -> %s: %s, latest @%s, %s sent\n", srcSpec, dstSpec, kind, res.Latest, formatBytes(uint64(res.Bytes)))
	return nil
}
