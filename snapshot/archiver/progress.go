package archiver

import (
	"sync/atomic"

	"github.com/hbackup/hbackup/snapshot"
)

// Progress counts what a running backup has done. All fields are safe to
// read while the backup runs.
type Progress struct {
	Files, Dirs                             atomic.Uint64 // items seen
	FilesNew, FilesChanged, FilesUnmodified atomic.Uint64
	DirsNew, DirsChanged, DirsUnmodified    atomic.Uint64
	Bytes                                   atomic.Uint64 // file bytes processed
	DataBlobs, TreeBlobs                    atomic.Uint64 // new blobs
	DataAdded, DataAddedPacked              atomic.Uint64
	Errors                                  atomic.Uint64
	// TotalFiles and TotalBytes are filled by the scanner when it runs,
	// for an ETA.
	TotalFiles, TotalBytes atomic.Uint64
	ScanDone               atomic.Bool
}

func (p *Progress) summary() snapshot.Summary {
	return snapshot.Summary{
		FilesNew:            uint(p.FilesNew.Load()),
		FilesChanged:        uint(p.FilesChanged.Load()),
		FilesUnmodified:     uint(p.FilesUnmodified.Load()),
		DirsNew:             uint(p.DirsNew.Load()),
		DirsChanged:         uint(p.DirsChanged.Load()),
		DirsUnmodified:      uint(p.DirsUnmodified.Load()),
		DataBlobs:           int(p.DataBlobs.Load()),
		TreeBlobs:           int(p.TreeBlobs.Load()),
		DataAdded:           p.DataAdded.Load(),
		DataAddedPacked:     p.DataAddedPacked.Load(),
		TotalFilesProcessed: uint(p.Files.Load()),
		TotalBytesProcessed: p.Bytes.Load(),
	}
}
