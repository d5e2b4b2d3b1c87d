package main

import (
	"context"
	"fmt"
	"os"
	"testing"
)

// TestMain lets the test binary serve as the bound child too, since the
// harness re-executes its own binary to measure bounds.
func TestMain(m *testing.M) {
	if req, ok := os.LookupEnv(boundEnv); ok {
		if err := boundChildMain(context.Background(), req); err != nil {
			fmt.Fprintf(os.Stderr, "bound: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
