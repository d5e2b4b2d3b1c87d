package zfs

import (
	"context"
	"slices"
	"strconv"
	"strings"
)

// depth selects how far below the named datasets a query reaches.
const (
	depthSelf      = 0  // only the named datasets
	depthRecursive = -1 // every descendant
)

// query reads props of targets (and, by depth, their descendants) whose
// type is one of types. It uses "zfs get -j" where available and the
// tab-separated "zfs get -H -p" otherwise; both work for every type, and
// zfs-fuse's "zfs list" has no -p.
func (r *Runner) query(ctx context.Context, targets []string, depth int, types, props []string) ([]propSet, error) {
	caps, err := r.Capabilities(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(props, "type") {
		props = append([]string{"type"}, props...)
	}
	args := []string{"get", "-H", "-p", "-o", "name,property,value"}
	if caps.JSON {
		args = []string{"get", "-j", "-p"}
	}
	switch {
	case depth == depthRecursive:
		args = append(args, "-r")
	case depth > 0:
		args = append(args, "-d", strconv.Itoa(depth))
	}
	if caps.GetTypes {
		args = append(args, "-t", strings.Join(types, ","))
	}
	args = append(args, strings.Join(props, ","))
	args = append(args, targets...)
	out, err := r.zfs(ctx, args...)
	if err != nil {
		return nil, err
	}
	var sets []propSet
	if caps.JSON {
		sets, err = parseJSON(out)
	} else {
		sets, err = parseGet(out)
	}
	if err != nil {
		return nil, err
	}
	return filterType(sets, types), nil
}

func filterType(sets []propSet, types []string) []propSet {
	out := sets[:0]
	for _, s := range sets {
		if slices.Contains(types, s.Props["type"]) {
			out = append(out, s)
		}
	}
	return out
}
