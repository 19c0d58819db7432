// Package merkle implements the Merkle hash trees PPSPP uses to protect
// content integrity (RFC 7574 §5, content integrity protection method 1),
// laid out exactly as libswift lays them out so that root hashes, peak
// hashes and uncle hashes interoperate.
//
// The tree is a complete binary tree over the next power of two of leaves
// at or above the number of chunks. A leaf is the hash of one chunk (the
// last chunk hashed at its real length); a subtree all of whose leaves lie
// beyond the content is "empty" and its hash is all zero bytes at any
// height; every other node is H(left || right). Nodes are named by their
// bin numbers (RFC 7574 §4.2), and for a tree over W leaves the bins are
// exactly 0..2W-2, so a bin number is also its index into the flat hash
// storage.
//
// A seeder builds a complete, fully verified tree from the content with
// Build. A downloader starts from the root hash alone (New), learns the
// content size from the peak hashes (SetPeaks, RFC 7574 §5.6.2), and then
// verifies each chunk against hashes it already trusts, using uncle hashes
// a peer sent as untrusted Candidates (RFC 7574 §5.2, §5.4).
//
// Guarantees:
//   - A hash reported as verified (Hash, Verified, Peaks) is consistent
//     with the root: it was computed from, or checked against, verified
//     nodes up to the root. Hashes from peers are never trusted until they
//     are.
//   - VerifyLeaf and VerifyChunk do not allocate on success; the hashes are
//     kept in one flat []byte.
//   - Nothing here panics on input from the network.
package merkle
