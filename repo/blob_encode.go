package repo

import "github.com/hbackup/hbackup/crypto"

// scratch is a reusable buffer for compressing one blob.
type scratch struct {
	buf    []byte
	sample []byte // the compressibility probe's input
	probe  []byte // and its output
}

// Compressibility probe: in auto mode, samples of a data blob are
// compressed at the fastest level first; a blob whose samples do not
// shrink is stored uncompressed. Random data (media, archives, encrypted
// files) then costs no compression time, and version 2 repositories allow
// uncompressed blobs (restic reads both kinds).
//
// The samples are many small pieces spread evenly over the blob, not a few
// large ones: a blob that mixes random and compressible stretches (a tar
// or disk image) must not be judged by three places that happen to be
// random. On 300 MiB alternating 50-450 KiB of random data and text,
// restic (which compresses everything) stored 172.6 MiB; three 4 KiB
// samples (start, middle, end) stored 206.1 MiB, sixteen 1 KiB samples
// 177.6 MiB, at the same cost.
const (
	probeMinBlob   = 64 << 10 // smaller blobs are simply compressed
	probeSamples   = 16       // pieces taken, the first at the start, the last at the end
	probeSample    = 1 << 10  // bytes per piece
	probeThreshold = 0.97     // compressed/original above this: incompressible
)

// ProbeSample returns what auto compression's probe compresses to judge
// whether data is worth compressing, built in dst's array (its contents
// are replaced); nil when data is too small to be probed (it is simply
// compressed). Data is judged
// incompressible when the probe's fastest-level output is above
// ProbeThreshold times the sample's length. Exported for the benchmark
// harness, which does the same CPU work without a repository.
func ProbeSample(dst, data []byte) []byte {
	if len(data) < probeMinBlob {
		return nil
	}
	dst = dst[:0]
	for i := range probeSamples {
		off := (len(data) - probeSample) * i / (probeSamples - 1)
		dst = append(dst, data[off:off+probeSample]...)
	}
	return dst
}

// ProbeThreshold: see ProbeSample.
const ProbeThreshold = probeThreshold

// incompressible reports whether data looks incompressible.
func (r *Repository) incompressible(data []byte, sc *scratch) bool {
	sample := ProbeSample(sc.sample, data)
	if sample == nil {
		return false
	}
	sc.sample = sample
	sc.probe = r.encProbe.encode(sample, sc.probe[:0])
	return float64(len(sc.probe)) > probeThreshold*float64(len(sample))
}

// compressBound is an upper bound of zstd's output for n input bytes.
func compressBound(n int) int { return n + n/128 + 1024 }

// plaintext returns what is to be sealed for a blob: data compressed
// (when the repository and mode say so) or data itself, and the
// uncompressed length to record (0 when stored uncompressed). With
// stages, compressed data goes into a stage buffer after room for the IV
// (see SaveBlobID), which is returned for the caller to put back; the
// buffer is only taken once the blob is to be compressed. Without, it
// goes into sc.
func (r *Repository) plaintext(t BlobType, data []byte, sc *scratch, stages *stagePool) (plain []byte, ulen uint32, stage []byte) {
	if r.cfg.Version < 2 || len(data) == 0 {
		return data, 0, nil
	}
	switch {
	case t == TreeBlob:
	case r.opts.Compression == CompressionOff:
		return data, 0, nil
	case r.opts.Compression == CompressionAuto && !r.compressAll && r.incompressible(data, sc):
		return data, 0, nil
	}
	enc := r.encMeta
	if t == DataBlob {
		enc = r.enc
	}
	if stages != nil {
		stage = stages.get(compressBound(len(data)) + crypto.Extension)
		plain = enc.encode(data, stage[crypto.IVSize:crypto.IVSize])
	} else {
		if cap(sc.buf) < compressBound(len(data)) {
			sc.buf = make([]byte, 0, compressBound(len(data)))
		}
		sc.buf = enc.encode(data, sc.buf[:0])
		plain = sc.buf
	}
	if t == DataBlob && !r.compressAll && len(plain) >= len(data) {
		// Did not shrink (small random files, which skip the probe):
		// stored as it is, restore then has nothing to decompress.
		return data, 0, stage
	}
	return plain, uint32(len(data)), stage
}
