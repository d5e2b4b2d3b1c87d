// Package backendtest is a conformance suite for backend.Backend
// implementations. A backend author calls Run from a test:
//
//	func TestBackend(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) backend.Backend {
//			return mybackend.New(t.TempDir())
//		})
//	}
//
// Every subtest asks for its own backend, so the factory must return a
// fresh, empty, not yet created backend on each call.
package backendtest

import (
	"testing"

	"github.com/hbackup/hbackup/backend"
)

// suite holds the factory every subtest draws a backend from.
type suite struct {
	newBackend func(t *testing.T) backend.Backend
}

// Run runs the conformance subtests against backends made by newBackend.
// newBackend is called once per subtest with that subtest's t; it must
// return a new, empty backend on which Create has not been called yet.
// Run closes every backend it gets when the subtest ends.
func Run(t *testing.T, newBackend func(t *testing.T) backend.Backend) {
	s := suite{newBackend: newBackend}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"Create", s.testCreate},
		{"SaveLoad", s.testSaveLoad},
		{"Stat", s.testStat},
		{"Missing", s.testMissing},
		{"InvalidHandle", s.testInvalidHandle},
		{"Replace", s.testReplace},
		{"PartialLoad", s.testPartialLoad},
		{"LoadPastEnd", s.testLoadPastEnd},
		{"LoadTwice", s.testLoadTwice},
		{"LoadCallbackError", s.testLoadCallbackError},
		{"List", s.testList},
		{"ListEmpty", s.testListEmpty},
		{"ListCallbackError", s.testListCallbackError},
		{"Remove", s.testRemove},
		{"FailedSave", s.testFailedSave},
		{"WrongLength", s.testWrongLength},
		{"CancelledContext", s.testCancelledContext},
		{"RewindReader", s.testRewindReader},
		{"Concurrent", s.testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.fn)
	}
}

// fresh returns a new backend that has not been created, closed when the
// test ends.
func (s suite) fresh(t *testing.T) backend.Backend {
	t.Helper()
	be := s.newBackend(t)
	if be == nil {
		t.Fatal("newBackend returned nil")
	}
	t.Cleanup(func() {
		if err := be.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return be
}

// open returns a new, created backend and checks that it is empty, since
// every subtest relies on that.
func (s suite) open(t *testing.T) backend.Backend {
	t.Helper()
	be := s.fresh(t)
	if err := be.Create(t.Context()); err != nil {
		t.Fatalf("Create: %v", err)
	}
	for _, ft := range backend.AllTypes {
		if got := list(t, be, ft); len(got) != 0 {
			t.Fatalf("newBackend returned a backend that is not empty: %v holds %v", ft, got)
		}
	}
	_, err := be.Stat(t.Context(), backend.Handle{Type: backend.ConfigFile})
	wantNotExist(t, "Stat(config) of a new backend", err)
	return be
}
