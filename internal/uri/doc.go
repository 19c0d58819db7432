// Package uri parses and formats NextShare links: ppsp://<roothash> with
// optional hints in the query (MISSION capability 9):
//
//	ppsp://7b72db4d084873f536c5972c0276f45fae2dd3fc?size=4097&peer=127.0.0.1:7574&type=video/mp4
//
// The root hash is 40 hex digits (SHA-1 Merkle tree, libswift's default) or
// 64 (SHA-256). Hints are advisory: the root hash alone identifies and
// authenticates the content. Parsing is strict and bounded, since links
// come from untrusted sources.
package uri
