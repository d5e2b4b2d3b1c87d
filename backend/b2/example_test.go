package b2_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/b2"
	"github.com/hbackup/hbackup/backend/limit"
	"github.com/hbackup/hbackup/backend/retry"
)

// The stack the hbackup command builds for b2:hass-backup:/host: the B2
// client (which authorizes at once), at most 5 requests at once, and
// retries outermost. Removing deletes every version of a file.
func Example() {
	ctx := context.Background()
	raw, err := b2.New(ctx, b2.Config{
		AccountID:  os.Getenv("B2_ACCOUNT_ID"),
		Key:        os.Getenv("B2_ACCOUNT_KEY"),
		Bucket:     "hass-backup",
		Prefix:     "host",
		HardDelete: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	be := retry.New(
		limit.New(raw, limit.Options{Connections: raw.Properties().Connections}),
		retry.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))},
	)
	defer func() { _ = be.Close() }()
	fmt.Println(be.Location())
	_, err = be.Stat(ctx, backend.Handle{Type: backend.ConfigFile})
	fmt.Println("repository exists:", err == nil)
}

// Missing credentials are refused before any request, with an error the
// retry decorator does not retry.
func ExampleNew_noCredentials() {
	_, err := b2.New(context.Background(), b2.Config{Bucket: "hass-backup"})
	fmt.Println(err)
	fmt.Println(errors.Is(err, b2.ErrUnauthorized), backend.IsPermanent(err))
	// Output:
	// b2: authentication failed: no account ID or key (set B2_ACCOUNT_ID and B2_ACCOUNT_KEY)
	// true true
}
