package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"time"
)

// startProfile writes a CPU profile to cpuPath, an execution trace
// (where goroutines wait) to tracePath and the heap profile at the peak
// of heap use to heapPath, each when set; developers set
// HBACKUP_CPUPROFILE, HBACKUP_TRACE and HBACKUP_HEAPPROFILE to find hot
// spots, stalls and what makes the peak RSS. The returned function stops
// them.
func startProfile(cpuPath, tracePath, heapPath string) func() {
	var stops []func()
	if heapPath != "" {
		stops = append(stops, watchHeapPeak(heapPath))
	}
	if f := createProfile("cpu profile", cpuPath); f != nil {
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "cpu profile: %v\n", err)
			f.Close()
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if f := createProfile("trace", tracePath); f != nil {
		if err := trace.Start(f); err != nil {
			fmt.Fprintf(os.Stderr, "trace: %v\n", err)
			f.Close()
		} else {
			stops = append(stops, func() { trace.Stop(); f.Close() })
		}
	}
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}

// watchHeapPeak samples the heap every 100 ms and writes a heap profile
// each time its in-use size reaches a new high, so the file ends up
// showing what was live at the peak.
func watchHeapPeak(path string) func() {
	runtime.MemProfileRate = 64 << 10
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var peak uint64
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse <= peak {
				continue
			}
			peak = ms.HeapInuse
			if f := createProfile("heap profile", path); f != nil {
				_ = pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
	}()
	return func() { close(done); <-finished }
}

func createProfile(what, path string) *os.File {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
		return nil
	}
	return f
}
