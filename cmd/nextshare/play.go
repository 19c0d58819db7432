package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/nextshare/nextshare/internal/gateway"
)

type playCmd struct {
	Player string `default:"none" enum:"mpv,vlc,browser,none" help:"Player to open on the stream URL (mpv, vlc, browser, none)."`
	HTTP   string `name:"http" default:"127.0.0.1:0" help:"Address of the HTTP gateway."`
	URI    string `arg:"" help:"ppsp:// link or root hash."`
	downloadFlags
}

func (c *playCmd) Run(g *globals) error {
	n, _, u, _, err := c.open(g, c.URI)
	if err != nil {
		return err
	}
	defer n.Close()
	types := map[string]string{}
	ext := ""
	if u.ContentType != "" {
		types[hex.EncodeToString(u.Root)] = u.ContentType
		ext = extensionFor(u.ContentType)
	}
	gw := gateway.New(gateway.Config{Swarms: n.Engine, Logger: g.log, Types: types})
	url, stop, err := gateway.Serve(c.HTTP, gw)
	if err != nil {
		return err
	}
	defer stop()
	url = fmt.Sprintf("%s/%x%s", url, u.Root, ext)
	fmt.Println(url)

	err = runPlayer(g.ctx, c.Player, url)
	st := gw.Stats()
	fmt.Fprintf(os.Stderr, "served %d bytes to %d requests; %d stalls (%.1f s waiting)\n",
		st.BytesServed, st.Requests, st.Stalls, st.StallTime.Seconds())
	return err
}

// runPlayer opens player on url and waits for it to exit, or, with none,
// waits for ctx.
func runPlayer(ctx context.Context, player, url string) error {
	var argv []string
	switch player {
	case "mpv":
		argv = []string{"mpv", "--no-ytdl", url}
	case "vlc":
		argv = []string{"vlc", "--play-and-exit", url}
	case "browser":
		argv = []string{"xdg-open", url}
	default:
		fmt.Fprintln(os.Stderr, "open the URL in a player or browser; Ctrl-C to stop")
		<-ctx.Done()
		return nil
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil && ctx.Err() == nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("%s exited: %v", argv[0], err)
		}
		return fmt.Errorf("start %s: %w", argv[0], err)
	}
	if player == "browser" {
		// xdg-open returns at once; keep serving until interrupted.
		<-ctx.Done()
	}
	return nil
}

// extensionFor picks the file extension a URL should carry for a media
// type: the one named like its subtype when there is one (.mp4 for
// video/mp4, where the system's list starts with .f4v), else the first.
func extensionFor(mediaType string) string {
	exts, _ := mime.ExtensionsByType(mediaType)
	if len(exts) == 0 {
		return ""
	}
	if _, sub, ok := strings.Cut(mediaType, "/"); ok {
		sub, _, _ = strings.Cut(sub, ";")
		if slices.Contains(exts, "."+strings.TrimSpace(sub)) {
			return "." + strings.TrimSpace(sub)
		}
	}
	return exts[0]
}
