package bench

import (
	"fmt"
	"net"
)

// portTries bounds the search for a port that is free for both TCP and UDP.
const portTries = 20

// freeUDPPort returns a loopback UDP port that was free a moment ago. The
// child binds it after this returns, so another process could take it in
// between; on loopback that is rare enough to report as an error.
func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free UDP port on 127.0.0.1: %w", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// freeTCPUDPPort returns a loopback port free for TCP and UDP both:
// libtorrent opens both on its listen port.
func freeTCPUDPPort() (int, error) {
	for range portTries {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find free TCP port on 127.0.0.1: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no port free for both TCP and UDP on 127.0.0.1 in %d tries", portTries)
}
