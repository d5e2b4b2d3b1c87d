package repo

// DecodeBlobInPlace decrypts, decompresses and verifies one stored blob
// as DecodeBlob does, for a caller that no longer needs the stored bytes:
// it decrypts sealed in place, so it needs no buffer for the decrypted
// bytes and sealed holds garbage afterwards. A compressed blob's
// plaintext is written into plain's array when it has room for
// pb.UncompressedLength bytes; an uncompressed blob's plaintext lies
// within sealed.
func (r *Repository) DecodeBlobInPlace(pb PackedBlob, sealed, plain []byte) ([]byte, error) {
	decrypted, err := r.key.OpenInPlace(sealed)
	if err != nil {
		return nil, blobIntegrityError(pb, "%v", err)
	}
	if pb.UncompressedLength != 0 {
		if decrypted, err = r.inflateBlob(pb, decrypted, plain[:0]); err != nil {
			return nil, err
		}
	}
	return r.verifyBlob(pb, decrypted)
}
