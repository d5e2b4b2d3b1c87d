package repo

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"sync"
	"time"

	"github.com/hbackup/hbackup/backend"
)

// LockInfo is the content of a lock file, in restic's field order.
type LockInfo struct {
	Time      time.Time `json:"time"`
	Exclusive bool      `json:"exclusive"`
	Hostname  string    `json:"hostname"`
	Username  string    `json:"username"`
	PID       int       `json:"pid"`
	UID       uint32    `json:"uid,omitempty"`
	GID       uint32    `json:"gid,omitempty"`
}

func (li LockInfo) String() string {
	kind := "shared"
	if li.Exclusive {
		kind = "exclusive"
	}
	return fmt.Sprintf("%s lock by %s@%s (PID %d) since %s", kind, li.Username, li.Hostname, li.PID, li.Time.Format(time.RFC3339))
}

// Timing of lock handling, as restic.
const (
	lockRefreshInterval = 5 * time.Minute
	lockCheckDelay      = 200 * time.Millisecond
)

// Lock is a lock file this process holds. It is refreshed in the
// background until Unlock.
type Lock struct {
	r    *Repository
	info LockInfo

	mu   sync.Mutex
	id   ID
	stop chan struct{}
	done chan struct{}

	// checked closes when the second check (see Lock) is done; checkErr
	// is its result, read only after checked closed.
	checked  chan struct{}
	checkErr error
}

// Lock writes a lock file after checking that no conflicting lock exists
// (any lock when exclusive; an exclusive lock otherwise). It returns an
// error wrapping ErrLocked, naming the holder, on conflict.
//
// Two processes that lock at the same moment may both pass that check, so
// the locks are listed again a moment after the lock file is written, as
// restic does. restic waits for that second check; hbackup lets the
// command start and holds back, until the check has passed, everything
// that a conflict would make unsafe: index and snapshot files, removals
// and key changes wait for it, and fail with ErrLocked if it finds a
// conflict (data packs are uploaded meanwhile, then also fail). A no-change
// backup spent a fifth of its time in that wait. Wait waits for the check
// explicitly.
func (r *Repository) Lock(ctx context.Context, exclusive bool) (*Lock, error) {
	info := LockInfo{Time: time.Now(), Exclusive: exclusive, PID: os.Getpid(),
		UID: uint32(os.Getuid()), GID: uint32(os.Getgid())}
	info.Hostname, _ = os.Hostname()
	if u, err := user.Current(); err == nil {
		info.Username = u.Username
	}
	if err := r.checkLocks(ctx, exclusive, ID{}); err != nil {
		return nil, err
	}
	id, err := r.saveLock(ctx, info)
	if err != nil {
		return nil, err
	}
	l := &Lock{r: r, info: info, id: id, stop: make(chan struct{}), done: make(chan struct{}),
		checked: make(chan struct{})}
	r.gate.add(l)
	go l.recheck(context.WithoutCancel(ctx), exclusive)
	go l.refreshLoop(context.WithoutCancel(ctx))
	return l, nil
}

// recheck lists the locks again after lockCheckDelay.
func (l *Lock) recheck(ctx context.Context, exclusive bool) {
	defer close(l.checked)
	select {
	case <-time.After(lockCheckDelay):
	case <-l.stop:
		l.checkErr = fmt.Errorf("%w: lock released before it was confirmed", ErrLocked)
		return
	}
	l.checkErr = l.r.checkLocks(ctx, exclusive, l.id)
	if l.checkErr != nil {
		l.r.logger.Warn("repository lock conflicts with a lock created at the same time", "err", l.checkErr)
	}
}

// Wait waits until the lock is confirmed: nil, or an error wrapping
// ErrLocked if another process locked the repository at the same time.
func (l *Lock) Wait(ctx context.Context) error {
	select {
	case <-l.checked:
		return l.checkErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Repository) saveLock(ctx context.Context, info LockInfo) (ID, error) {
	data, err := json.Marshal(info)
	if err != nil {
		return ID{}, err
	}
	id, err := r.SaveUnpacked(ctx, backend.LockFile, data)
	if err != nil {
		return ID{}, fmt.Errorf("create lock: %w", err)
	}
	return id, nil
}

// checkLocks returns ErrLocked when another lock conflicts. Unreadable
// lock files are ignored, as restic 0.14 does.
func (r *Repository) checkLocks(ctx context.Context, exclusive bool, own ID) error {
	var conflict error
	err := r.List(ctx, backend.LockFile, func(id ID, size int64) error {
		if id == own || size == 0 {
			return nil
		}
		info, err := r.LoadLock(ctx, id)
		if err != nil {
			r.logger.Warn("ignoring unreadable lock file", "lock", id.Str(), "err", err)
			return nil
		}
		if exclusive || info.Exclusive {
			conflict = fmt.Errorf("%w: %v (lock %v); if the process is gone, remove the lock with `unlock`", ErrLocked, info, id.Str())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list locks: %w", err)
	}
	return conflict
}

// LoadLock loads and decodes one lock file.
func (r *Repository) LoadLock(ctx context.Context, id ID) (LockInfo, error) {
	var info LockInfo
	data, err := r.LoadUnpacked(ctx, backend.LockFile, id)
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return info, fmt.Errorf("%w: locks/%v: %v", ErrIntegrity, id, err)
	}
	return info, nil
}

func (l *Lock) refreshLoop(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(lockRefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			if err := l.refresh(ctx); err != nil {
				l.r.logger.Warn("lock refresh failed", "err", err)
			}
		}
	}
}

// refresh writes a new lock file with the current time, then removes the
// old one, as restic does.
func (l *Lock) refresh(ctx context.Context) error {
	info := l.info
	info.Time = time.Now()
	id, err := l.r.saveLock(ctx, info)
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.id
	l.id = id
	l.mu.Unlock()
	return l.r.be.Remove(ctx, backend.Handle{Type: backend.LockFile, Name: old.String()})
}

// Unlock stops refreshing and removes the lock file.
func (l *Lock) Unlock(ctx context.Context) error {
	close(l.stop)
	<-l.done
	<-l.checked
	l.r.gate.remove(l)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.be.Remove(ctx, backend.Handle{Type: backend.LockFile, Name: l.id.String()})
}

// String describes the lock for messages.
func (l *Lock) String() string { return l.info.String() + " pid " + strconv.Itoa(l.info.PID) }
