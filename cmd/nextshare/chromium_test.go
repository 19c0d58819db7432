package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// playbackJS plays the page's video (Chromium's media document for the
// stream URL), checks that time advances, seeks to 70% and checks that it
// plays on, then fetches the stream and hashes it.
const playbackJS = `(async () => {
	const v = document.querySelector('video');
	v.muted = true;
	const sleep = ms => new Promise(r => setTimeout(r, ms));
	const waitFor = (name, ms) => new Promise((res, rej) => {
		const t = setTimeout(() => rej(new Error('no ' + name + ' event within ' + ms + ' ms')), ms);
		v.addEventListener(name, () => { clearTimeout(t); res(); }, {once: true});
	});
	let playing = !v.paused && v.currentTime > 0;
	if (!playing) {
		const p = waitFor('playing', 20000);
		v.play().catch(() => {});
		await p;
	}
	const t0 = v.currentTime;
	await sleep(1500);
	const t1 = v.currentTime;
	const target = v.duration * 0.7;
	const seeked = waitFor('seeked', 20000);
	v.currentTime = target;
	await seeked;
	const s0 = v.currentTime;
	await sleep(1500);
	const s1 = v.currentTime;
	const buf = await (await fetch(location.href)).arrayBuffer();
	const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
	const hash = Array.from(digest).map(b => b.toString(16).padStart(2, '0')).join('');
	return {t0, t1, duration: v.duration, target, s0, s1, paused: v.paused, hash, bytes: buf.byteLength};
})()`

type playback struct {
	T0, T1, Duration, Target, S0, S1 float64
	Paused                           bool
	Hash                             string
	Bytes                            int
}

// TestChromiumPlaysGateway: headless Chromium plays a video streamed by
// `nextshare play` from a `nextshare seed` process: the playing event
// fires, time advances, a seek to 70% plays on, and the bytes it gets
// equal the source file.
func TestChromiumPlaysGateway(t *testing.T) {
	needTools(t, "chromium", "ffmpeg")
	video := testVideo(t, 20, "640x360")
	src, err := os.ReadFile(video)
	if err != nil {
		t.Fatal(err)
	}
	addr, link := seeder(t, video)
	url := play(t, addr, link+"&type=video%2Fmp4")

	ctx := headlessChromium(t)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	start := time.Now()
	if _, err := chromedp.Run(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
	pb, err := chromedp.Run(ctx, chromedp.Evaluate[playback](playbackJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("playback: %v", err)
	}
	t.Logf("playback %+v in %v", pb, time.Since(start))
	if pb.T1 <= pb.T0 || pb.T1 < 0.5 {
		t.Errorf("currentTime did not advance: %.2f -> %.2f", pb.T0, pb.T1)
	}
	if pb.S0 < pb.Target-0.5 || pb.S1 <= pb.S0 || pb.Paused {
		t.Errorf("after seeking to %.1f s: %.2f -> %.2f, paused %v", pb.Target, pb.S0, pb.S1, pb.Paused)
	}
	sum := sha256.Sum256(src)
	if pb.Bytes != len(src) || pb.Hash != hex.EncodeToString(sum[:]) {
		t.Errorf("the browser got %d bytes with SHA-256 %s; the source is %d bytes, %x", pb.Bytes, pb.Hash, len(src), sum)
	}
}
