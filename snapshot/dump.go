package snapshot

import (
	"archive/tar"
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/hbackup/hbackup/repo"
)

// WriteContent writes a file node's content, blob by blob.
func WriteContent(ctx context.Context, r BlobLoader, w io.Writer, n *Node) error {
	var buf []byte
	for _, id := range n.Content {
		data, err := r.LoadBlob(ctx, repo.DataBlob, id, buf)
		if err != nil {
			return fmt.Errorf("load blob %s: %w", id.Str(), err)
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
		buf = data
	}
	return nil
}

// DumpArchive writes everything below directory dir (its path in the
// snapshot, used as the names' prefix) as a "tar" or "zip" archive. Names
// are relative to the snapshot root; dir itself is not an entry.
func DumpArchive(ctx context.Context, r BlobLoader, w io.Writer, dir string, tree repo.ID, format string) error {
	prefix := strings.TrimPrefix(path.Clean("/"+dir), "/")
	switch format {
	case "tar":
		tw := tar.NewWriter(w)
		err := Walk(ctx, r, tree, prefix, func(p string, n *Node) (bool, error) {
			return true, addTar(ctx, r, tw, p, n)
		})
		if err != nil {
			return err
		}
		return tw.Close()
	case "zip":
		zw := zip.NewWriter(w)
		err := Walk(ctx, r, tree, prefix, func(p string, n *Node) (bool, error) {
			return true, addZip(ctx, r, zw, p, n)
		})
		if err != nil {
			return err
		}
		return zw.Close()
	}
	return fmt.Errorf("unknown archive format %q", format)
}

// POSIX special mode bits; Go's os.FileMode keeps them elsewhere.
const (
	modeSetuid = 0o4000
	modeSetgid = 0o2000
	modeSticky = 0o1000
)

func tarMode(m os.FileMode) int64 {
	out := int64(m.Perm())
	if m&os.ModeSetuid != 0 {
		out |= modeSetuid
	}
	if m&os.ModeSetgid != 0 {
		out |= modeSetgid
	}
	if m&os.ModeSticky != 0 {
		out |= modeSticky
	}
	return out
}

func addTar(ctx context.Context, r BlobLoader, tw *tar.Writer, name string, n *Node) error {
	h := &tar.Header{Name: name, Mode: tarMode(n.Mode), Uid: int(n.UID), Gid: int(n.GID),
		Uname: n.User, Gname: n.Group, ModTime: n.ModTime, AccessTime: n.AccessTime, ChangeTime: n.ChangeTime}
	if len(n.ExtendedAttributes) > 0 {
		h.PAXRecords = map[string]string{}
		for _, x := range n.ExtendedAttributes {
			h.PAXRecords["SCHILY.xattr."+x.Name] = string(x.Value)
		}
	}
	switch n.Type {
	case NodeTypeFile:
		h.Typeflag, h.Size = tar.TypeReg, int64(n.Size)
	case NodeTypeDir:
		h.Typeflag, h.Name = tar.TypeDir, name+"/"
	case NodeTypeSymlink:
		h.Typeflag, h.Linkname = tar.TypeSymlink, n.Target()
	default:
		// Like restic, only files, directories and symlinks are dumped.
		return nil
	}
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("tar header for %s: %w", name, err)
	}
	if n.Type == NodeTypeFile {
		if err := WriteContent(ctx, r, tw, n); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func addZip(ctx context.Context, r BlobLoader, zw *zip.Writer, name string, n *Node) error {
	h := &zip.FileHeader{Name: name, Modified: n.ModTime, Method: zip.Store}
	h.SetMode(n.Mode)
	switch n.Type {
	case NodeTypeFile:
		h.UncompressedSize64 = n.Size
	case NodeTypeDir:
		h.Name += "/"
	case NodeTypeSymlink:
	default:
		return nil
	}
	w, err := zw.CreateHeader(h)
	if err != nil {
		return fmt.Errorf("zip header for %s: %w", name, err)
	}
	switch n.Type {
	case NodeTypeFile:
		if err := WriteContent(ctx, r, w, n); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	case NodeTypeSymlink:
		// Zip stores a symlink as a file holding its target.
		if _, err := io.WriteString(w, n.Target()); err != nil {
			return err
		}
	}
	return nil
}
