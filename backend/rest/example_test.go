package rest_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/limit"
	"github.com/hbackup/hbackup/backend/rest"
	"github.com/hbackup/hbackup/backend/retry"
)

// A repository on a REST server with a login in the URL. New makes no
// request, and the location it reports hides the password.
func Example() {
	be, err := rest.New(rest.Config{URL: "rest:https://backup:s3cret@nas.example.com:8000/hass"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = be.Close() }()
	fmt.Println(be.Location())
	fmt.Println("connections:", be.Properties().Connections)
	// Output:
	// rest:https://backup:***@nas.example.com:8000/hass/
	// connections: 5
}

// The stack the hbackup command builds for a remote repository: the
// REST client, at most 5 requests at once and 1 MiB/s up, and retries
// outermost so that waiting for a retry does not hold a connection.
// Deletes refused by an append-only server come back at once, matching
// rest.ErrForbidden.
func Example_stack() {
	raw, err := rest.New(rest.Config{URL: "http://127.0.0.1:8000/"})
	if err != nil {
		fmt.Println(err)
		return
	}
	be := retry.New(
		limit.New(raw, limit.Options{Connections: 5, UploadKiB: 1024}),
		retry.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))},
	)
	defer func() { _ = be.Close() }()

	ctx := context.Background()
	fi, err := be.Stat(ctx, backend.Handle{Type: backend.ConfigFile})
	fmt.Println(fi.Size, err)
}
