package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"

	"github.com/hbackup/hbackup/chunk"
)

// runtimeSlack is what the Go runtime holds beside the heap's live
// objects (stacks, span metadata, partly used spans) plus room for
// garbage between collections. Measured at scale 1: a limit 12 MiB
// tighter made the GC run often enough to cost 10-25% of the backup's
// wall time; this one costs nothing measurable.
const runtimeSlack = 40 << 20

// limitMemory sets a soft memory limit of the live heap now (mostly the
// loaded index) plus pipeline, the most the command's pipeline keeps live
// on the Go heap at once (pack buffers and the key derivation's memory
// live outside it, see package hugemem). Without a limit, the runtime
// keeps freed spans (scratch buffers) resident: the peak RSS of a first
// backup at scale 1 was 160 MB, with it about 145 MB. A limit that turns
// out too low costs GC time, never correctness (and the runtime caps GC at
// half the CPU). GOMEMLIMIT from the environment wins.
func limitMemory(pipeline int64) {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return
	}
	// A collection first: the last one may have run during key
	// derivation, whose 32 MiB per lane is garbage by now. It costs one
	// mark of the index, once per command.
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	var live int64
	if s[0].Value.Kind() == metrics.KindUint64 {
		live = int64(s[0].Value.Uint64())
	}
	// The heap may grow by GOGC percent (25, see main) before a collection.
	debug.SetMemoryLimit(live + live/4 + pipeline + runtimeSlack)
}

// backupPipeline is what a backup keeps live on the Go heap besides the
// index: a chunk buffer per file reader (MaxSize, and MinSize for small
// files), the compression scratch of each chunk store running at once
// (the archiver runs at most max(readers, GOMAXPROCS): its saver pool has
// GOMAXPROCS slots), and the small tree packs and compressors. Data pack
// buffers and the savers' chunk copies are outside the heap.
func backupPipeline(readers int) int64 {
	stores := max(readers, runtime.GOMAXPROCS(0))
	return int64(readers)*(chunk.MaxSize+chunk.MinSize) + int64(stores)*4<<20 + 16<<20
}

// packStreamPipeline is what copy and prune keep live on the Go heap
// besides what they loaded, with streams pack reads at once: each read
// (repo.StreamPack) holds two blob decoders whose buffers grow to the
// largest blobs it has seen, and the writer compresses and packs.
//
// The figure is for typical blobs (the chunker's average is 1 MiB), not
// for 8 MiB ones throughout: a limit that allowed for those was no limit,
// and without one the runtime kept garbage and freed spans resident.
// Measured at scale 1 (20-snapshot history, local repositories, 3 runs
// each), peak RSS without a limit and with this one: copy 138-144 ->
// 111-117 MiB (restic 0.14: 125-134), about 5% more wall time; forget
// --prune 109-119 -> 95-97 MiB (restic: 104-118).
func packStreamPipeline(streams int) int64 {
	return int64(streams) * 6 << 20
}
