package bench

import "regexp"

// uriPattern matches the URI a nextshare seeder prints once it is ready:
// the scheme and the swarm's root hash in lower-case hex (40 digits for
// SHA-1, more for longer hashes).
var uriPattern = regexp.MustCompile(`ppsp://[0-9a-f]{40,}`)

// findURI returns the first ppsp:// URI in line, if any.
func findURI(line string) (string, bool) {
	u := uriPattern.FindString(line)
	return u, u != ""
}
