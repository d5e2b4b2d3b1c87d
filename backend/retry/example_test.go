package retry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/backend/retry"
)

// dropsTwice is a backend whose first two uploads fail on the way.
type dropsTwice struct {
	*mem.Backend
	attempts int
}

func (d *dropsTwice) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	d.attempts++
	if d.attempts <= 2 {
		_, _ = rd.Read(make([]byte, 4)) // part of the upload went out
		return errors.New("connection reset by peer")
	}
	return d.Backend.Save(ctx, h, rd)
}

// Wrap a backend so transient failures are retried; the reader is
// rewound before each attempt, so the whole content arrives.
func Example() {
	flaky := &dropsTwice{Backend: mem.New()}
	be := retry.New(flaky, retry.Options{InitialDelay: 10 * time.Millisecond})

	ctx := context.Background()
	h := backend.Handle{Type: backend.SnapshotFile, Name: "5eed"}
	if err := be.Save(ctx, h, backend.NewByteReader([]byte("snapshot data"))); err != nil {
		fmt.Println(err)
		return
	}
	data, _ := backend.LoadAll(ctx, be, h)
	fmt.Printf("saved %q after %d attempts\n", data, flaky.attempts)

	// A missing file is not a transient error: no retry, no wait.
	_, err := be.Stat(ctx, backend.Handle{Type: backend.SnapshotFile, Name: "missing"})
	fmt.Println(errors.Is(err, backend.ErrNotExist))
	// Output:
	// saved "snapshot data" after 3 attempts
	// true
}

// Permanent errors, such as a server refusing a delete, are returned at
// once.
func ExampleTransient() {
	ctx := context.Background()
	fmt.Println(retry.Transient(ctx, errors.New("connection reset")))
	fmt.Println(retry.Transient(ctx, backend.Permanent(errors.New("403 Forbidden"))))
	fmt.Println(retry.Transient(ctx, fmt.Errorf("stat: %w", backend.ErrNotExist)))
	// Output:
	// true
	// false
	// false
}
