package repo

// DecodeBlobInPlace decrypts, decompresses and verifies one stored blob
// as DecodeBlob does, for a caller that no longer needs the stored bytes:
// it decrypts sealed in place, so it needs no buffer for the decrypted
// bytes and sealed holds garbage afterwards. A compressed blob's
// plaintext is written into plain's array when it has room for
// pb.UncompressedLength bytes; an uncompressed blob's plaintext lies
// within sealed.
func (r *Repository) DecodeBlobInPlace(pb PackedBlob, sealed, plain []byte) ([]byte, error) {
	out, err := r.openBlobInPlace(pb, sealed, plain)
	if err != nil {
		return nil, err
	}
	return r.verifyBlob(pb, out)
}

// openBlobInPlace is DecodeBlobInPlace without the check of the
// plaintext against the blob ID. A compressed blob's output is returned
// with the error when it has the wrong length (see inflateBlob).
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
