package uring

import (
	"errors"
	"syscall"
	"testing"
)

// The probe finds the operations Open needs and refuses one no kernel
// has: it reads the kernel's table, not a constant.
func TestProbe(t *testing.T) {
	r, err := Open(2)
	if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EPERM) {
		t.Skipf("no io_uring here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.probe(opWrite, opFsync); err != nil {
		t.Errorf("probe of write and fsync: %v", err)
	}
	if err := r.probe(opFsync, 255); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("probe of operation 255: %v, want ErrUnsupported", err)
	}
}
