// Package bin implements the chunk addressing schemes of PPSPP (RFC 7574 §4):
// bin numbers (§4.2), chunk ranges (§4.3) and a chunk bitmap used for the
// local and remote availability maps.
//
// A bin number names a node of the binary tree laid over the chunks of a
// swarm: the chunk with index i is bin 2i, and the parent of two sibling
// bins covers both. Chunk ranges are inclusive [Start, End] pairs of chunk
// indices. Every range can be decomposed into a minimal list of aligned
// bins, which is what the Merkle tree and bin-addressed peers need.
package bin
