package notify_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/hbackup/hbackup/job/notify"
)

func ExampleNtfy_Send() {
	// A stand-in for https://ntfy.sh that prints what it receives.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Println(r.Method, r.URL.Path)
		fmt.Println("Title:", r.Header.Get("Title"))
		fmt.Println("Priority:", r.Header.Get("Priority"))
		fmt.Println(string(body))
	}))
	defer srv.Close()

	n := &notify.Ntfy{URL: srv.URL + "/nas-backups"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := n.Send(ctx, notify.Message{Outcome: notify.Failure, Job: "home", Hostname: "nas",
		Body: "write /srv/restic/data/1a: no space left on device"})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// POST /nas-backups
	// Title: hbackup: home on nas failed
	// Priority: 5
	// write /srv/restic/data/1a: no space left on device
}

func ExampleHealthchecks() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(r.Method, r.URL.Path)
	}))
	defer srv.Close()

	hc := &notify.Healthchecks{BaseURL: srv.URL, UUID: "5f6e8c1a-9b2d-4c3e-8f7a-1b2c3d4e5f60"}
	ctx := context.Background()
	if err := hc.Start(ctx); err != nil {
		fmt.Println(err)
	}
	if err := hc.Fail(ctx, "Fatal: wrong password or no key found"); err != nil {
		fmt.Println(err)
	}
	// Output:
	// POST /5f6e8c1a-9b2d-4c3e-8f7a-1b2c3d4e5f60/start
	// POST /5f6e8c1a-9b2d-4c3e-8f7a-1b2c3d4e5f60/fail
}
