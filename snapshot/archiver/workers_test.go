package archiver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestWorkerPoolRunsAllBounded(t *testing.T) {
	const limit, jobs = 3, 200
	p := newWorkerPool(limit, 0)
	var running, peak, done atomic.Int32
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(limit)
	for i := range jobs {
		f := func() error {
			n := running.Add(1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			if i < limit {
				started.Done()
				<-release // the first limit jobs hold every worker
			}
			running.Add(-1)
			done.Add(1)
			return nil
		}
		if i == limit {
			// Every worker is busy: Go must wait until one is released.
			started.Wait()
			blocked := make(chan struct{})
			go func() {
				p.Go(f)
				close(blocked)
			}()
			// A pool that did not wait would return (and run f) in this time;
			// a correct one fails neither way, so the sleep bounds nothing.
			time.Sleep(20 * time.Millisecond)
			select {
			case <-blocked:
				t.Fatal("Go returned while every worker was busy")
			default:
			}
			if n := running.Load(); n != limit {
				t.Fatalf("%d functions running while %d hold every worker", n, limit)
			}
			close(release)
			<-blocked
			continue
		}
		p.Go(f)
	}
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := done.Load(); got != jobs {
		t.Errorf("ran %d functions, want %d", got, jobs)
	}
	if got := peak.Load(); got > limit {
		t.Errorf("%d functions ran at once, limit %d", got, limit)
	}
}

func TestWorkerPoolFirstError(t *testing.T) {
	p := newWorkerPool(1, 2) // one worker: the order is the order of Go
	first, second := errors.New("first"), errors.New("second")
	p.Go(func() error { return nil })
	p.Go(func() error { return first })
	p.Go(func() error { return second })
	if err := p.Wait(); !errors.Is(err, first) {
		t.Fatalf("Wait = %v, want %v", err, first)
	}
}

func TestWorkerPoolWaitWithoutWork(t *testing.T) {
	if err := newWorkerPool(4, 8).Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestWorkerPoolQueue: with every worker busy, Go queues up to queue
// functions and then waits.
func TestWorkerPoolQueue(t *testing.T) {
	const queue = 3
	p := newWorkerPool(1, queue)
	release := make(chan struct{})
	started := make(chan struct{})
	var ran atomic.Int32
	p.Go(func() error { close(started); <-release; ran.Add(1); return nil })
	<-started
	for range queue {
		p.Go(func() error { ran.Add(1); return nil }) // must not wait
	}
	blocked := make(chan struct{})
	go func() {
		p.Go(func() error { ran.Add(1); return nil })
		close(blocked)
	}()
	time.Sleep(20 * time.Millisecond) // as above: bounds nothing
	select {
	case <-blocked:
		t.Fatal("Go returned with the queue full")
	default:
	}
	close(release)
	<-blocked
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := ran.Load(); got != queue+2 {
		t.Errorf("ran %d functions, want %d", got, queue+2)
	}
}

// TestWorkerPoolCauseBeatsCancel: a cancellation recorded first does not
// hide the failure that caused it.
func TestWorkerPoolCauseBeatsCancel(t *testing.T) {
	cause := errors.New("disk full")
	p := newWorkerPool(1, 3)
	p.Go(func() error { return fmt.Errorf("queued: %w", context.Canceled) })
	p.Go(func() error { return cause })
	p.Go(func() error { return context.Canceled })
	if err := p.Wait(); !errors.Is(err, cause) {
		t.Fatalf("Wait = %v, want %v", err, cause)
	}
}
