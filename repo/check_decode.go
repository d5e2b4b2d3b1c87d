package repo

// OpenBlob decrypts and decompresses one stored blob without checking
// its plaintext against its ID, for a caller that hashes the plaintext
// itself (check hashes it beside the pack's bytes, then calls
// CheckBlobSum). sealed is left as it is. An uncompressed blob is
// decrypted into plain's array, a compressed one into scratch's and
// decompressed into plain's, each when it has room. Damage found on the
// way is ErrIntegrity, naming the blob and its pack.
func (r *Repository) OpenBlob(pb PackedBlob, sealed, scratch, plain []byte) ([]byte, error) {
	if pb.UncompressedLength == 0 {
		out, err := r.key.Open(plain[:0], sealed)
		if err != nil {
			return nil, blobIntegrityError(pb, "%v", err)
		}
		return out, nil
	}
	decrypted, err := r.key.Open(scratch[:0], sealed)
	if err != nil {
		return nil, blobIntegrityError(pb, "%v", err)
	}
	out, err := r.inflateBlob(pb, decrypted, plain[:0])
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CheckBlobSum returns ErrIntegrity, naming the blob and its pack, unless
// sum, the SHA-256 of a blob's plaintext, is the blob's ID.
func CheckBlobSum(pb PackedBlob, sum ID) error {
	if sum != pb.ID {
		return blobIntegrityError(pb, "content does not match its ID")
	}
	return nil
}

// openBlobInPlace decrypts and decompresses one stored blob, decrypting
// sealed in place, for a caller that no longer needs the stored bytes:
// no buffer is needed for the decrypted bytes, and sealed holds garbage
// afterwards. A compressed blob's plaintext is written into plain's
// array when it has room; an uncompressed blob's lies within sealed. The
// plaintext is not checked against the blob ID. A compressed blob's
// output is returned with the error when it has the wrong length (see
// inflateBlob).
func (r *Repository) openBlobInPlace(pb PackedBlob, sealed, plain []byte) ([]byte, error) {
	decrypted, err := r.key.OpenInPlace(sealed)
	if err != nil {
		return nil, blobIntegrityError(pb, "%v", err)
	}
	if pb.UncompressedLength != 0 {
		return r.inflateBlob(pb, decrypted, plain[:0])
	}
	return decrypted, nil
}
