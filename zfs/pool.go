package zfs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Pool is a storage pool.
type Pool struct {
	Name                  string
	Size, Allocated, Free uint64 // bytes; rounded on zfs-fuse, whose zpool has no -p
	Health                string // "ONLINE", "DEGRADED", ...
}

// Pools lists the imported pools.
func (r *Runner) Pools(ctx context.Context) ([]Pool, error) {
	caps, err := r.Capabilities(ctx)
	if err != nil {
		return nil, err
	}
	args := []string{"list", "-H", "-o", "name,size,allocated,free,health"}
	if caps.ListParsable { // OpenZFS's zpool has -p whenever its zfs does
		args = append(args[:2], append([]string{"-p"}, args[2:]...)...)
	}
	out, err := r.zpool(ctx, args...)
	if err != nil {
		return nil, err
	}
	return parsePools(out)
}

// parsePools reads "zpool list -H [-p] -o name,size,allocated,free,health".
func parsePools(out []byte) ([]Pool, error) {
	var pools []Pool
	for n, line := range strings.Split(string(out), "\n") {
		if line == "" || line == "no pools available" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			return nil, fmt.Errorf("zpool list: line %d: %q", n+1, line)
		}
		p := Pool{Name: f[0], Health: f[4]}
		for i, dst := range []*uint64{&p.Size, &p.Allocated, &p.Free} {
			v, err := parseSize(f[i+1])
			if err != nil {
				return nil, fmt.Errorf("zpool list: %s: %w", p.Name, err)
			}
			*dst = v
		}
		pools = append(pools, p)
	}
	return pools, nil
}

// parseSize reads a byte count, exact ("262144000") or human ("250M",
// "1.50G", powers of 1024 as zfs prints them).
func parseSize(s string) (uint64, error) {
	if s == "-" || s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return n, nil
	}
	units := "BKMGTPE"
	i := strings.IndexByte(units, s[len(s)-1])
	if i < 0 {
		return 0, fmt.Errorf("size %q: unknown unit", s)
	}
	f, err := strconv.ParseFloat(s[:len(s)-1], 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	for ; i > 0; i-- {
		f *= 1024
	}
	return uint64(f), nil
}
