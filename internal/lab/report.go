package lab

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Layout of the figures.
const (
	figWidth    = 10 * vg.Inch
	figHeight   = 4.6 * vg.Inch
	panelHeight = 2.3 * vg.Inch
	figDPI      = 96
	smoothing   = time.Second // window of rates and their derivatives
	maxKeyed    = 40          // hosts beyond this get no colour key
	maxPanels   = 8           // hosts in the message analyzer
)

// figure is one image of the report.
type figure struct {
	File, Title, Caption string
}

// WriteReport writes r into dir (created if needed): results.json, one
// PNG per figure, and index.html, a self-contained page with a summary,
// a table of hosts and the figures. It calls r.Summarize first. A figure
// without data is left out; an error in one figure does not stop the
// others.
func WriteReport(dir string, r *Results) error {
	r.Summarize()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := r.WriteJSON(dir); err != nil {
		return err
	}
	var errs []error
	var figs []figure
	for _, f := range []struct {
		figure
		draw func(*Results) (*canvas, error)
	}{
		{figure{"progress.png", "Progress", "Share of the content's chunks each get has verified, over time since the run started. One line per get."}, progressFigure},
		{figure{"speed.png", "Download speed", "Each get's download rate in Mbit/s, from the growth of its verified chunks over the last second."}, speedFigure},
		{figure{"acceleration.png", "Acceleration", "The change of each get's download speed, in Mbit/s per second, over the last second."}, accelerationFigure},
		{figure{"source-share.png", "Source upload share", "The share of the content bytes all gets verified that came from seeders: since the start (cumulative) and over the last second (instantaneous)."}, sourceShareFigure},
		{figure{"startup-cdf.png", "Startup delay", "Distribution of the gets' startup delays: from a get's start until its first 1 MiB (or all of a smaller content) is verified."}, startupFigure},
		{figure{"messages.png", "Message analyzer", "Messages per second by type for a few hosts (seeders first, then gets spread over the arrival order): received solid, sent dashed; log scale."}, messagesFigure},
	} {
		c, err := f.draw(r)
		if err == nil && c != nil {
			err = c.writePNG(filepath.Join(dir, f.File))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.File, err))
			continue
		}
		if c != nil {
			figs = append(figs, f.figure)
		}
	}
	if err := writeIndex(filepath.Join(dir, "index.html"), r, figs); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// series helpers

// xy is a time series in seconds.
type xy struct{ t, v []float64 }

func (s *xy) add(t, v float64) { s.t, s.v = append(s.t, t), append(s.v, v) }

func (s xy) points() plotter.XYs {
	pts := make(plotter.XYs, len(s.t))
	for i := range s.t {
		pts[i].X, pts[i].Y = s.t[i], s.v[i]
	}
	return pts
}

// rate returns the slope of s over the window before each point: for
// point i, (v[i]-v[j])/(t[i]-t[j]) with j the earliest point at most
// window older (the previous one if that is older). The first point has
// no slope and is left out.
func (s xy) rate(window float64) xy {
	var out xy
	j := 0
	for i := 1; i < len(s.t); i++ {
		for j < i-1 && s.t[j] < s.t[i]-window {
			j++
		}
		if dt := s.t[i] - s.t[j]; dt > 0 {
			out.add(s.t[i], (s.v[i]-s.v[j])/dt)
		}
	}
	return out
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// gets returns the gets among r's hosts, in r's order.
func gets(r *Results) []*HostResult {
	var hs []*HostResult
	for i := range r.Hosts {
		if r.Hosts[i].get() {
			hs = append(hs, &r.Hosts[i])
		}
	}
	return hs
}

// haveMbit returns a host's verified content in Mbit over time.
func haveMbit(r *Results, h *HostResult) xy {
	perChunk := r.chunkBytes() * 8 / 1e6
	var s xy
	for _, smp := range h.Samples {
		s.add(seconds(smp.T), float64(smp.Have)*perChunk)
	}
	return s
}

// figures

// perHost draws one line per get of the series f gives for it.
func perHost(r *Results, title, ylabel string, f func(*HostResult) xy) (*canvas, error) {
	hs := gets(r)
	p := newPlot(title, "time since the run started (s)", ylabel)
	colors := hostColors(len(hs))
	width := vg.Points(1.2)
	if len(hs) > 10 {
		width = vg.Points(0.7)
	}
	var key []keyEntry
	for i, h := range hs {
		s := f(h)
		if len(s.t) == 0 {
			continue
		}
		l, err := plotter.NewLine(s.points())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", h.Name, err)
		}
		l.LineStyle = draw.LineStyle{Color: colors[i], Width: width}
		p.Add(l)
		key = append(key, keyEntry{h.Name, l.LineStyle})
	}
	if len(key) == 0 {
		return nil, nil
	}
	if len(key) > maxKeyed {
		key = nil
	}
	return &canvas{plots: []*plot.Plot{p}, cols: 1, height: figHeight, key: key}, nil
}

func progressFigure(r *Results) (*canvas, error) {
	if r.Chunks == 0 {
		return nil, nil
	}
	c, err := perHost(r, "Progress of each get", "chunks verified (%)", func(h *HostResult) xy {
		var s xy
		for _, smp := range h.Samples {
			s.add(seconds(smp.T), 100*float64(smp.Have)/float64(r.Chunks))
		}
		return s
	})
	if c != nil {
		p := c.plots[0]
		p.Y.Min, p.Y.Max = 0, 100
	}
	return c, err
}

func speedFigure(r *Results) (*canvas, error) {
	return perHost(r, "Download speed of each get", "Mbit/s (1 s window)", func(h *HostResult) xy {
		return haveMbit(r, h).rate(smoothing.Seconds())
	})
}

func accelerationFigure(r *Results) (*canvas, error) {
	return perHost(r, "Acceleration of each get", "Mbit/s²", func(h *HostResult) xy {
		w := smoothing.Seconds()
		return haveMbit(r, h).rate(w).rate(w)
	})
}

// at returns the last sample of ss at or before t (the zero Sample if none).
func at(ss []Sample, t time.Duration) Sample {
	i := sort.Search(len(ss), func(i int) bool { return ss[i].T > t })
	if i == 0 {
		return Sample{}
	}
	return ss[i-1]
}

func sourceShareFigure(r *Results) (*canvas, error) {
	hs := gets(r)
	var end time.Duration
	for _, h := range hs {
		if n := len(h.Samples); n > 0 {
			end = max(end, h.Samples[n-1].T)
		}
	}
	if end <= 0 {
		return nil, nil
	}
	step := max(100*time.Millisecond, end/500)
	// Verified bytes from seeders over all verified bytes, counting each
	// chunk at the mean chunk size.
	chunk := r.chunkBytes()
	var cum, inst xy
	var prevFrom, prevIn []float64 // by step, for the window
	window := int(max(1, smoothing/step))
	for t := time.Duration(0); t <= end+step-1; t += step {
		var from, in float64
		for _, h := range hs {
			s := at(h.Samples, t)
			from += float64(s.FromSource)
			in += float64(s.Have) * chunk
		}
		prevFrom, prevIn = append(prevFrom, from), append(prevIn, in)
		if in > 0 {
			cum.add(seconds(t), min(100, 100*from/in))
		}
		if k := len(prevIn) - 1 - window; k >= 0 {
			if din := in - prevIn[k]; din > 0 {
				inst.add(seconds(t), min(100, max(0, 100*(from-prevFrom[k])/din)))
			}
		}
	}
	if len(cum.t) == 0 {
		return nil, nil
	}
	p := newPlot("Share of verified content bytes that came from seeders", "time since the run started (s)", "from seeders (%)")
	var key []keyEntry
	for _, s := range []struct {
		xy
		name  string
		style draw.LineStyle
	}{
		{inst, "instantaneous (1 s)", draw.LineStyle{Color: color.RGBA{0x9e, 0xca, 0xe1, 0xff}, Width: vg.Points(1)}},
		{cum, "cumulative", draw.LineStyle{Color: color.RGBA{0x08, 0x51, 0x9c, 0xff}, Width: vg.Points(2)}},
	} {
		if len(s.t) == 0 {
			continue
		}
		l, err := plotter.NewLine(s.points())
		if err != nil {
			return nil, err
		}
		l.LineStyle = s.style
		p.Add(l)
		key = append(key, keyEntry{s.name, s.style})
	}
	p.Y.Min, p.Y.Max = 0, 100
	return &canvas{plots: []*plot.Plot{p}, cols: 1, height: figHeight, key: key}, nil
}

func startupFigure(r *Results) (*canvas, error) {
	var ds []float64
	for _, h := range gets(r) {
		if h.Startup > 0 {
			ds = append(ds, seconds(h.Startup))
		}
	}
	if len(ds) == 0 {
		return nil, nil
	}
	slices.Sort(ds)
	// A step function: the share of gets started up by each delay.
	pts := plotter.XYs{{X: 0, Y: 0}}
	for i, d := range ds {
		pts = append(pts, plotter.XY{X: d, Y: float64(i) / float64(len(ds))},
			plotter.XY{X: d, Y: float64(i+1) / float64(len(ds))})
	}
	p := newPlot(fmt.Sprintf("Startup delay of %d gets (first 1 MiB verified)", len(ds)), "startup delay (s)", "share of gets")
	l, err := plotter.NewLine(pts)
	if err != nil {
		return nil, err
	}
	l.LineStyle = draw.LineStyle{Color: color.RGBA{0x08, 0x51, 0x9c, 0xff}, Width: vg.Points(2)}
	p.Add(l)
	key := []keyEntry{{"empirical CDF", l.LineStyle}}
	for _, q := range []struct {
		d    time.Duration
		name string
		dash []vg.Length
	}{{r.StartupP50, "p50", []vg.Length{vg.Points(4), vg.Points(2)}}, {r.StartupP95, "p95", []vg.Length{vg.Points(1), vg.Points(2)}}} {
		if q.d <= 0 {
			continue
		}
		m, err := plotter.NewLine(plotter.XYs{{X: seconds(q.d), Y: 0}, {X: seconds(q.d), Y: 1}})
		if err != nil {
			return nil, err
		}
		m.LineStyle = draw.LineStyle{Color: color.RGBA{0xd9, 0x48, 0x01, 0xff}, Width: vg.Points(1), Dashes: q.dash}
		p.Add(m)
		key = append(key, keyEntry{fmt.Sprintf("%s = %.2f s", q.name, seconds(q.d)), m.LineStyle})
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1.05*ds[len(ds)-1], 0, 1
	return &canvas{plots: []*plot.Plot{p}, cols: 1, height: figHeight, key: key}, nil
}

// msgTypes is the order (and colour) of the message types in the analyzer;
// other types follow in name order.
var msgTypes = []string{"DATA", "ACK", "HAVE", "REQUEST", "INTEGRITY", "SIGNED_INTEGRITY", "HANDSHAKE",
	"KEEPALIVE", "PEX_REQ", "PEX_RESv4", "PEX_RESv6", "PEX_REScert", "CANCEL", "CHOKE", "UNCHOKE"}

// analyzed picks the hosts for the message analyzer: the seeders (at most
// two), then gets spread evenly over their order.
func analyzed(r *Results) []*HostResult {
	var seeds, gs []*HostResult
	for i := range r.Hosts {
		h := &r.Hosts[i]
		if len(h.Messages) < 2 {
			continue
		}
		if h.seed() {
			seeds = append(seeds, h)
		} else {
			gs = append(gs, h)
		}
	}
	out := seeds[:min(2, len(seeds))]
	m := min(maxPanels-len(out), len(gs))
	for k := range m {
		i := 0
		if m > 1 {
			i = int(math.Round(float64(k) * float64(len(gs)-1) / float64(m-1)))
		}
		out = append(out, gs[i])
	}
	return out
}

func messagesFigure(r *Results) (*canvas, error) {
	hosts := analyzed(r)
	if len(hosts) == 0 {
		return nil, nil
	}
	// The types seen anywhere in the chosen hosts, in msgTypes order.
	seen := make(map[string]bool)
	for _, h := range hosts {
		last := h.Messages[len(h.Messages)-1]
		for k, v := range last.In {
			seen[k] = seen[k] || v > 0
		}
		for k, v := range last.Out {
			seen[k] = seen[k] || v > 0
		}
	}
	var types []string
	for _, t := range msgTypes {
		if seen[t] {
			types = append(types, t)
		}
	}
	var extra []string
	for t, ok := range seen {
		if ok && !slices.Contains(msgTypes, t) {
			extra = append(extra, t)
		}
	}
	slices.Sort(extra)
	types = append(types, extra...)
	if len(types) == 0 {
		return nil, nil
	}
	colors := typeColors(len(types))
	solid := func(i int) draw.LineStyle { return draw.LineStyle{Color: colors[i], Width: vg.Points(1)} }
	dashed := func(i int) draw.LineStyle {
		return draw.LineStyle{Color: colors[i], Width: vg.Points(1), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}
	}
	var end float64
	for _, h := range hosts {
		end = max(end, seconds(h.Messages[len(h.Messages)-1].T))
	}
	var plots []*plot.Plot
	for _, h := range hosts {
		p := newPlot(fmt.Sprintf("%s (%s)", h.Name, h.Role), "time since the run started (s)", "messages/s")
		for _, f := range []*font.Font{&p.Title.TextStyle.Font, &p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font} {
			f.Size = vg.Points(10)
		}
		p.Y.Scale = log1pScale{}
		p.Y.Tick.Marker = log1pTicks{}
		for i, t := range types {
			for _, dir := range []struct {
				out   bool
				style draw.LineStyle
			}{{false, solid(i)}, {true, dashed(i)}} {
				var s xy
				for _, m := range h.Messages {
					c := m.In[t]
					if dir.out {
						c = m.Out[t]
					}
					s.add(seconds(m.T), float64(c))
				}
				rate := s.rate(smoothing.Seconds())
				if len(rate.t) == 0 || slices.Max(rate.v) <= 0 {
					continue
				}
				for k := range rate.v {
					rate.v[k] = max(0, rate.v[k])
				}
				l, err := plotter.NewLine(rate.points())
				if err != nil {
					return nil, fmt.Errorf("%s %s: %w", h.Name, t, err)
				}
				l.LineStyle = dir.style
				p.Add(l)
			}
		}
		p.X.Min, p.X.Max = 0, end
		p.Y.Min = 0
		p.Y.Max = max(p.Y.Max, 1)
		plots = append(plots, p)
	}
	key := []keyEntry{
		{"received", draw.LineStyle{Color: color.Black, Width: vg.Points(1)}},
		{"sent", draw.LineStyle{Color: color.Black, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}},
	}
	for i, t := range types {
		key = append(key, keyEntry{t, draw.LineStyle{Color: colors[i], Width: vg.Points(2.5)}})
	}
	cols := 2
	if len(plots) == 1 {
		cols = 1
	}
	rows := (len(plots) + cols - 1) / cols
	return &canvas{plots: plots, cols: cols, height: vg.Length(rows) * panelHeight, key: key}, nil
}

// log1pScale is a logarithmic axis that also shows zero: it places y at
// log(1+y).
type log1pScale struct{}

func (log1pScale) Normalize(lo, hi, y float64) float64 {
	a, b := math.Log1p(max(lo, 0)), math.Log1p(max(hi, 0))
	if b <= a {
		return 0
	}
	return (math.Log1p(max(y, 0)) - a) / (b - a)
}

// log1pTicks marks 0 and the powers of ten, with minor ticks between.
type log1pTicks struct{}

func (log1pTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := []plot.Tick{{Value: 0, Label: "0"}}
	for p := 1.0; p <= hi && p < 1e12; p *= 10 {
		if p >= lo {
			ticks = append(ticks, plot.Tick{Value: p, Label: fmt.Sprintf("%g", p)})
		}
		for k := 2.0; k < 10 && k*p <= hi; k++ {
			ticks = append(ticks, plot.Tick{Value: k * p})
		}
	}
	return ticks
}

// drawing

func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, f := range []*font.Font{&p.Title.TextStyle.Font, &p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font,
		&p.X.Tick.Label.Font, &p.Y.Tick.Label.Font, &p.Legend.TextStyle.Font} {
		f.Variant = "Sans"
	}
	p.X.Tick.Marker = niceTicks{}
	p.Y.Tick.Marker = niceTicks{}
	p.Add(plotter.NewGrid())
	return p
}

// niceTicks labels about eight round values (steps of 1, 2 or 5 times a
// power of ten), with a minor tick halfway between.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	raw := (hi - lo) / 8
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	decimals := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	var ticks []plot.Tick
	for k := math.Ceil(lo/step - 0.5); k*step <= hi+step/2; k++ {
		v := k * step
		if v >= lo-step*1e-9 && v <= hi+step*1e-9 {
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v+0, 'f', decimals, 64)})
		}
		if h := v + step/2; h >= lo && h <= hi {
			ticks = append(ticks, plot.Tick{Value: h})
		}
	}
	return ticks
}

// tableau10 is Tableau's 10-colour palette: distinct at a glance.
var tableau10 = []color.Color{
	color.RGBA{0x4e, 0x79, 0xa7, 0xff}, color.RGBA{0xf2, 0x8e, 0x2b, 0xff},
	color.RGBA{0xe1, 0x57, 0x59, 0xff}, color.RGBA{0x76, 0xb7, 0xb2, 0xff},
	color.RGBA{0x59, 0xa1, 0x4f, 0xff}, color.RGBA{0xed, 0xc9, 0x48, 0xff},
	color.RGBA{0xb0, 0x7a, 0xa1, 0xff}, color.RGBA{0xff, 0x9d, 0xa7, 0xff},
	color.RGBA{0x9c, 0x75, 0x5f, 0xff}, color.RGBA{0xba, 0xb0, 0xac, 0xff},
}

// hostColors returns n colours: Tableau's for up to ten, otherwise hues
// around the wheel at alternating brightness, so neighbours differ.
func hostColors(n int) []color.Color {
	if n <= len(tableau10) {
		return tableau10[:n]
	}
	cs := make([]color.Color, n)
	for i := range cs {
		v := 0.85
		if i%2 == 1 {
			v = 0.6
		}
		cs[i] = hsv(float64(i)/float64(n), 0.8, v)
	}
	return cs
}

// typeColors returns n colours for message types.
func typeColors(n int) []color.Color {
	cs := slices.Clone(tableau10)
	cs = append(cs, color.RGBA{0x17, 0x17, 0x17, 0xff}, color.RGBA{0x00, 0x6d, 0x2c, 0xff},
		color.RGBA{0x54, 0x27, 0x88, 0xff}, color.RGBA{0x8c, 0x2d, 0x04, 0xff})
	for len(cs) < n {
		cs = append(cs, cs[len(cs)%len(tableau10)])
	}
	return cs[:n]
}

// hsv converts a colour from hue, saturation and value, all in [0, 1].
func hsv(h, s, v float64) color.Color {
	h6 := math.Mod(h, 1) * 6
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h6, 2)-1))
	var r, g, b float64
	switch int(h6) {
	case 0:
		r, g = c, x
	case 1:
		r, g = x, c
	case 2:
		g, b = c, x
	case 3:
		g, b = x, c
	case 4:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := v - c
	u8 := func(f float64) uint8 { return uint8(math.Round((f + m) * 255)) }
	return color.RGBA{u8(r), u8(g), u8(b), 0xff}
}

// keyEntry is one entry of a figure's colour key.
type keyEntry struct {
	label string
	style draw.LineStyle
}

// canvas is a figure ready to draw: plots in a grid under a colour key
// that runs across the whole width.
type canvas struct {
	plots  []*plot.Plot
	cols   int
	height vg.Length // of the plots, without the key
	key    []keyEntry
}

func keyStyle() text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    font.From(font.Font{Typeface: "Liberation", Variant: "Sans"}, 9),
		Handler: plot.DefaultTextHandler,
		YAlign:  draw.YCenter,
	}
}

// keyLayout places the key's entries in rows no wider than w and returns
// each entry's left edge and row.
func (c *canvas) keyLayout(w vg.Length) (xs []vg.Length, rows []int, n int) {
	sty := keyStyle()
	thumb, gap := vg.Points(18), vg.Points(14)
	x, row := vg.Length(0), 0
	for _, e := range c.key {
		ew := thumb + vg.Points(4) + sty.Width(e.label)
		if x > 0 && x+ew > w {
			x, row = 0, row+1
		}
		xs, rows = append(xs, x), append(rows, row)
		x += ew + gap
	}
	if len(c.key) > 0 {
		n = row + 1
	}
	return xs, rows, n
}

func (c *canvas) writePNG(path string) error {
	const margin = 0.15 * vg.Inch
	lineH := vg.Points(14)
	xs, rows, nrows := c.keyLayout(figWidth - 2*margin)
	keyH := vg.Length(0)
	if nrows > 0 {
		keyH = vg.Length(nrows)*lineH + margin
	}
	img := vgimg.NewWith(vgimg.UseWH(figWidth, c.height+keyH), vgimg.UseDPI(figDPI))
	dc := draw.New(img)

	sty := keyStyle()
	for i, e := range c.key {
		y := dc.Max.Y - margin/2 - lineH/2 - vg.Length(rows[i])*lineH
		x := dc.Min.X + margin + xs[i]
		dc.StrokeLine2(e.style, x, y, x+vg.Points(18), y)
		dc.FillText(sty, vg.Point{X: x + vg.Points(22), Y: y}, e.label)
	}

	area := draw.Crop(dc, 0, 0, 0, -keyH)
	nrow := (len(c.plots) + c.cols - 1) / c.cols
	grid := make([][]*plot.Plot, nrow)
	for i := range grid {
		grid[i] = make([]*plot.Plot, c.cols)
	}
	for i, p := range c.plots {
		grid[i/c.cols][i%c.cols] = p
	}
	tiles := draw.Tiles{Rows: nrow, Cols: c.cols, PadX: vg.Points(12), PadY: vg.Points(10),
		PadLeft: vg.Points(4), PadRight: vg.Points(10), PadTop: vg.Points(4), PadBottom: vg.Points(4)}
	canvases := plot.Align(grid, tiles, area)
	for i, p := range c.plots {
		p.Draw(canvases[i/c.cols][i%c.cols])
	}

	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// the page

type hostRow struct {
	Name, Group, Role, Addr          string
	Start, Done, Took, Startup       string
	In, Out, Source, WireIn, WireOut string
	Identical, Bad                   bool
}

type page struct {
	R                *Results
	Seeds, Gets      int
	Completed        int
	Started          string
	Size             string
	Completion       string
	Bound            string
	Ratio            string
	Share            string
	P50, P95         string
	Hosts            []hostRow
	Figures          []figure
	RunDuration      string
	IdenticalSummary string
	CPU              string
}

func fmtDur(d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// fmtOffset formats a time since the run started, where 0 is a time.
func fmtOffset(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func fmtMiB(b uint64) string { return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20)) }

func writeIndex(path string, r *Results, figs []figure) error {
	pg := page{R: r, Figures: figs, Size: fmtMiB(uint64(r.ContentSize)), RunDuration: fmtDur(r.Duration),
		Started: r.Started.Format(time.RFC3339), Bound: "–", Ratio: "–", Share: "–",
		P50: fmtDur(r.StartupP50), P95: fmtDur(r.StartupP95)}
	seeders := make(map[string]bool)
	for _, h := range r.Hosts {
		if h.seed() {
			seeders[h.Name] = true
		}
	}
	for _, h := range r.Hosts {
		row := hostRow{Name: h.Name, Group: h.Group, Role: h.Role, Addr: h.Addr, Identical: h.Identical,
			Start: "–", Done: "–", Took: "–", Startup: fmtDur(h.Startup), Source: "–"}
		if !h.Started.IsZero() {
			row.Start = fmtOffset(h.Started.Sub(r.Started))
		}
		if !h.Completed.IsZero() {
			row.Done = fmtOffset(h.Completed.Sub(r.Started))
			row.Took = fmtDur(h.Completed.Sub(h.Started))
		}
		var in, out, src uint64
		for n, b := range h.BytesFrom {
			in += b
			if seeders[n] {
				src += b
			}
		}
		for _, b := range h.BytesTo {
			out += b
		}
		row.In, row.Out, row.WireIn, row.WireOut = fmtMiB(in), fmtMiB(out), "–", "–"
		if n := len(h.Samples); n > 0 {
			row.WireIn, row.WireOut = fmtMiB(h.Samples[n-1].BytesIn), fmtMiB(h.Samples[n-1].BytesOut)
		}
		switch {
		case h.seed():
			pg.Seeds++
			row.Identical = true
		case h.get():
			pg.Gets++
			if !h.Completed.IsZero() {
				pg.Completed++
			}
			if in > 0 {
				row.Source = fmt.Sprintf("%.1f%%", 100*float64(src)/float64(in))
			}
			row.Bad = h.Completed.IsZero() || !h.Identical
		}
		pg.Hosts = append(pg.Hosts, row)
	}
	pg.Completion = fmt.Sprintf("not all gets completed (%d of %d)", pg.Completed, pg.Gets)
	if r.Completion > 0 {
		pg.Completion = fmtDur(r.Completion)
	}
	if r.FluidBound > 0 {
		pg.Bound = fmt.Sprintf("%s (%s binds)", fmtDur(r.FluidBound), r.FluidTerm)
	}
	if r.BoundRatio > 0 {
		pg.Ratio = fmt.Sprintf("%.2f×", r.BoundRatio)
	}
	if pg.Gets > 0 {
		pg.Share = fmt.Sprintf("%.1f%%", 100*r.SourceShare)
	}
	pg.CPU = "–"
	if r.CPUs > 0 {
		pg.CPU = fmt.Sprintf("%.0f%% of %d cores", 100*r.MachineBusy, r.CPUs)
	}
	pg.IdenticalSummary = "no"
	if r.AllIdentical {
		pg.IdenticalSummary = "yes"
	}
	var b strings.Builder
	if err := indexTemplate.Execute(&b, pg); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

var indexTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Swarm lab: {{.R.Scenario}}</title>
<style>
body { font-family: sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { padding: 0.2em 0.7em; border-bottom: 1px solid #ddd; text-align: left; }
td { white-space: nowrap; }
.wide { overflow-x: auto; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.bad td { background: #fde0dc; }
table.summary th { font-weight: normal; color: #555; }
figure { margin: 2em 0; }
figure img { width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
.errors { color: #b00; }
</style>
</head>
<body>
<h1>Swarm lab: {{.R.Scenario}}</h1>
<table class="summary">
<tr><th>started</th><td>{{.Started}}</td></tr>
<tr><th>run time</th><td>{{.RunDuration}}</td></tr>
<tr><th>hosts</th><td>seeders: {{.Seeds}}, gets: {{.Gets}} ({{.Completed}} completed)</td></tr>
<tr><th>content</th><td>{{.Size}} in {{.R.Chunks}} chunks</td></tr>
<tr><th>completion (first get's start to last get's completion)</th><td>{{.Completion}}</td></tr>
<tr><th>fluid-model lower bound</th><td>{{.Bound}}</td></tr>
<tr><th>completion / bound</th><td>{{.Ratio}}</td></tr>
<tr><th>bytes from seeders</th><td>{{.Share}}</td></tr>
<tr><th>machine CPU busy</th><td>{{.CPU}}</td></tr>
<tr><th>startup delay p50 / p95</th><td>{{.P50}} / {{.P95}}</td></tr>
<tr><th>every copy identical to the source</th><td>{{.IdenticalSummary}}</td></tr>
</table>
{{if .R.Errors}}<h2>Errors</h2>
<ul class="errors">{{range .R.Errors}}<li>{{.}}</li>{{end}}</ul>
{{end}}<h2>Hosts</h2>
<div class="wide"><table>
<tr><th>host</th><th>group</th><th>role</th><th>address</th><th>start</th><th>complete</th><th>took</th><th>startup</th><th>content in</th><th>content out</th><th>from seeders</th><th>UDP in</th><th>UDP out</th><th>identical</th></tr>
{{range .Hosts}}<tr{{if .Bad}} class="bad"{{end}}><td>{{.Name}}</td><td>{{.Group}}</td><td>{{.Role}}</td><td>{{.Addr}}</td><td class="n">{{.Start}}</td><td class="n">{{.Done}}</td><td class="n">{{.Took}}</td><td class="n">{{.Startup}}</td><td class="n">{{.In}}</td><td class="n">{{.Out}}</td><td class="n">{{.Source}}</td><td class="n">{{.WireIn}}</td><td class="n">{{.WireOut}}</td><td>{{if .Identical}}yes{{else}}no{{end}}</td></tr>
{{end}}</table></div>
<p>Times are since the run started. Content in: verified content bytes received; content out: bytes sent in DATA messages; UDP in and out: all UDP payload, PPSPP and DHT. Results as JSON: <a href="results.json">results.json</a>.</p>
{{range .Figures}}<figure>
<img src="{{.File}}" alt="{{.Title}}">
<figcaption><b>{{.Title}}.</b> {{.Caption}}</figcaption>
</figure>
{{end}}</body>
</html>
`))
