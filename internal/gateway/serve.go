package gateway

import (
	"context"
	"net"
	"net/http"
	"time"
)

// Serve serves h (a gateway, or a handler wrapping one) over HTTP on addr
// and returns its base URL and a function that shuts the server down,
// waiting up to 2 s for responses in progress.
func Serve(addr string, h http.Handler) (string, func(), error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			srv.Close()
		}
		<-done
	}
	return "http://" + l.Addr().String(), stop, nil
}
