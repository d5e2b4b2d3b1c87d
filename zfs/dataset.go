package zfs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Dataset is a filesystem or volume.
type Dataset struct {
	Name       string
	Type       string // "filesystem" or "volume"
	Mountpoint string // "" for volumes; may be "legacy" or "none"
	Mounted    bool
	Used       uint64 // bytes
	Available  uint64
	Referenced uint64
	Creation   time.Time
	Origin     string // the snapshot a clone was made from, or ""
}

var datasetProps = []string{"name", "type", "mountpoint", "mounted", "used", "available", "referenced", "creation", "origin"}

func datasetFrom(ps propSet) (Dataset, error) {
	d := Dataset{
		Name:       ps.Name,
		Type:       ps.Props["type"],
		Mountpoint: strProp(ps, "mountpoint"),
		Mounted:    ps.Props["mounted"] == "yes" || ps.Props["mounted"] == "true",
		Origin:     strProp(ps, "origin"),
	}
	var err error
	if d.Used, err = uintProp(ps, "used"); err != nil {
		return d, err
	}
	if d.Available, err = uintProp(ps, "available"); err != nil {
		return d, err
	}
	if d.Referenced, err = uintProp(ps, "referenced"); err != nil {
		return d, err
	}
	d.Creation, err = timeProp(ps, "creation")
	return d, err
}

// Dataset returns one filesystem or volume. A missing one, or a name that
// is a snapshot, gives ErrNotExist.
func (r *Runner) Dataset(ctx context.Context, name string) (Dataset, error) {
	sets, err := r.query(ctx, []string{name}, depthSelf, []string{"filesystem", "volume"}, datasetProps)
	if err != nil {
		return Dataset{}, err
	}
	if len(sets) == 0 {
		return Dataset{}, fmt.Errorf("%w: %s is not a filesystem or volume", ErrNotExist, name)
	}
	return datasetFrom(sets[0])
}

// Datasets returns the filesystems and volumes at root and, when
// recursive, below it, parents before children.
func (r *Runner) Datasets(ctx context.Context, root string, recursive bool) ([]Dataset, error) {
	depth := depthSelf
	if recursive {
		depth = depthRecursive
	}
	sets, err := r.query(ctx, []string{root}, depth, []string{"filesystem", "volume"}, datasetProps)
	if err != nil {
		return nil, err
	}
	out := make([]Dataset, 0, len(sets))
	for _, s := range sets {
		d, err := datasetFrom(s)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Dataset) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Create creates a filesystem. An existing one gives ErrExists, a missing
// parent ErrNotExist.
func (r *Runner) Create(ctx context.Context, name string, props map[string]string) error {
	args := append([]string{"create"}, propArgs(props)...)
	_, err := r.zfs(ctx, append(args, name)...)
	return err
}

// CreateAll creates a filesystem and its missing parents (create -p); an
// existing filesystem is not an error.
func (r *Runner) CreateAll(ctx context.Context, name string, props map[string]string) error {
	args := append([]string{"create", "-p"}, propArgs(props)...)
	_, err := r.zfs(ctx, append(args, name)...)
	return err
}

// propArgs turns props into sorted "-o k=v" arguments.
func propArgs(props map[string]string) []string {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var args []string
	for _, k := range keys {
		args = append(args, "-o", k+"="+props[k])
	}
	return args
}

// Set sets properties of a dataset or snapshot. zfs-fuse takes one
// property per command, so each is set separately.
func (r *Runner) Set(ctx context.Context, name string, props map[string]string) error {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if _, err := r.zfs(ctx, "set", k+"="+props[k], name); err != nil {
			return err
		}
	}
	return nil
}

// Get returns the parsable values (zfs get -H -p) of props of one dataset,
// snapshot or bookmark. Values that do not apply are "-".
func (r *Runner) Get(ctx context.Context, name string, props ...string) (map[string]string, error) {
	if len(props) == 0 {
		return nil, fmt.Errorf("zfs get %s: no property named", name)
	}
	out, err := r.zfs(ctx, "get", "-H", "-p", "-o", "name,property,value", strings.Join(props, ","), name)
	if err != nil {
		return nil, err
	}
	sets, err := parseGet(out)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotExist, name)
	}
	return sets[0].Props, nil
}

// Mount mounts a filesystem at its mountpoint.
func (r *Runner) Mount(ctx context.Context, name string) error {
	_, err := r.zfs(ctx, "mount", name)
	return err
}

// Unmount unmounts a filesystem; force unmounts it even when busy.
func (r *Runner) Unmount(ctx context.Context, name string, force bool) error {
	args := []string{"unmount"}
	if force {
		args = append(args, "-f")
	}
	_, err := r.zfs(ctx, append(args, name)...)
	return err
}

// Clone creates the filesystem target from snapshot.
func (r *Runner) Clone(ctx context.Context, snapshot, target string, props map[string]string) error {
	args := append([]string{"clone"}, propArgs(props)...)
	_, err := r.zfs(ctx, append(args, snapshot, target)...)
	return err
}

// Rename renames a dataset or snapshot; for a snapshot, newName may be
// the full name or just the part after "@".
func (r *Runner) Rename(ctx context.Context, name, newName string) error {
	if ds, _, ok := strings.Cut(name, "@"); ok && !strings.Contains(newName, "@") {
		newName = ds + "@" + newName
	}
	_, err := r.zfs(ctx, "rename", name, newName)
	return err
}

// DestroyOptions controls Destroy.
type DestroyOptions struct {
	Recursive bool // -r: also descendants (for a snapshot: same-named snapshots of descendants)
	Defer     bool // -d: mark a held snapshot for deletion once released
}

// Destroy destroys a dataset, snapshot or bookmark.
func (r *Runner) Destroy(ctx context.Context, name string, opts DestroyOptions) error {
	args := []string{"destroy"}
	if opts.Recursive {
		args = append(args, "-r")
	}
	if opts.Defer {
		args = append(args, "-d")
	}
	args = append(args, name)
	_, err := r.zfs(ctx, args...)
	// zfs-fuse unmounts a mounted filesystem, then often reports it busy
	// for a moment. A filesystem that is no longer mounted (so no process
	// holds it) is retried a few times; a mounted one stays ErrBusy.
	wait := 50 * time.Millisecond
	for attempt := 0; attempt < 6 && errors.Is(err, ErrBusy) && !strings.ContainsAny(name, "@#"); attempt++ {
		if p, gerr := r.Get(ctx, name, "mounted"); gerr != nil || p["mounted"] != "no" {
			break
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 2
		_, err = r.zfs(ctx, args...)
	}
	return err
}
