package repo

import "time"

// pendingIndex collects packs uploaded but not yet written to an index
// file.
type pendingIndex struct {
	packs []pendingPack
	blobs int
	since time.Time
}

type pendingPack struct {
	id    ID
	blobs []PackedBlob
	// json is the pack as an index file lists it (index.AppendPack),
	// encoded when the pack was recorded; nil if it was not.
	json []byte
}

// indexMaxBlobs and indexMaxAge decide when an index file is written
// during a long backup, as restic does; a crash then loses little.
const (
	indexMaxBlobs = 50000
	indexMaxAge   = 5 * time.Minute
)

// add records a pack and reports whether an index file is due.
func (p *pendingIndex) add(pp pendingPack) bool {
	if len(p.packs) == 0 {
		p.since = time.Now()
	}
	p.packs = append(p.packs, pp)
	p.blobs += len(pp.blobs)
	return p.blobs >= indexMaxBlobs || time.Since(p.since) >= indexMaxAge
}

func (p *pendingIndex) take() []pendingPack {
	out := p.packs
	*p = pendingIndex{}
	return out
}
