// Package scenarios holds the swarm lab's shipped scenario files, so that
// `nextshare lab run NAME` finds them by name. Each file's header comment
// says what it measures; internal/lab's package comment describes the
// format, and lab.ParseScenario reads it.
package scenarios

import "embed"

// FS holds the shipped scenarios, one NAME.yaml file each.
//
//go:embed *.yaml
var FS embed.FS
