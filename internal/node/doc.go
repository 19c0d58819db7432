// Package node assembles a running NextShare node: one UDP socket, the
// PPSPP engine on it, and the swarms it seeds and downloads. The command
// line and tests drive nodes through this package rather than wiring the
// protocol layers themselves.
package node
