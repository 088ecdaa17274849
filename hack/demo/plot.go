package main

import (
	"fmt"
	"image/color"
	"os"
	"sort"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/redis-autoscaler/redis-autoscaler/test/e2e"
)

// writePlot draws three panels of the report r over time: load asked, each HPA metric as
// a fraction of its target (1 = at target), and replicas (HPA's spec,
// Ready, synced), with scaler and HPA events as vertical marks.
func writePlot(r *e2e.Report, path string) error {
	if len(r.Samples) == 0 {
		return fmt.Errorf("no samples")
	}
	t0 := r.Samples[0].T
	x := func(t time.Time) float64 { return t.Sub(t0).Seconds() }
	series := func(f func(e2e.Sample) (float64, bool)) plotter.XYs {
		var xy plotter.XYs
		for _, s := range r.Samples {
			if v, ok := f(s); ok {
				xy = append(xy, plotter.XY{X: x(s.T), Y: v})
			}
		}
		return xy
	}
	palette := []color.Color{
		color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{44, 160, 44, 255},
		color.RGBA{214, 39, 40, 255}, color.RGBA{148, 103, 189, 255},
	}
	addLine := func(p *plot.Plot, name string, xy plotter.XYs, i int, dashed bool) error {
		if len(xy) == 0 {
			return nil
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return err
		}
		l.Color = palette[i%len(palette)]
		l.Width = vg.Points(1.5)
		if dashed {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(l)
		p.Legend.Add(name, l)
		return nil
	}
	marks := func(p *plot.Plot, maxY float64) {
		for _, ev := range r.Events {
			if ev.T.Before(t0) {
				continue // before the run: the install
			}
			c := color.RGBA{160, 160, 160, 255}
			switch ev.Reason {
			case "Switchover", "Promoted":
				c = color.RGBA{214, 39, 40, 255}
			case "SuccessfulRescale":
				c = color.RGBA{90, 90, 90, 255}
			case "ScaledUp", "ScaledDown":
			default:
				continue
			}
			l, err := plotter.NewLine(plotter.XYs{{X: x(ev.T), Y: 0}, {X: x(ev.T), Y: maxY}})
			if err != nil {
				continue
			}
			l.Color = c
			l.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
			p.Add(l)
		}
	}
	newPlot := func(title, ylabel string) *plot.Plot {
		p := plot.New()
		p.Title.Text = title
		p.Y.Label.Text = ylabel
		p.X.Label.Text = "seconds"
		p.Legend.Top = true
		p.Add(plotter.NewGrid())
		return p
	}

	load := newPlot("load", "ops/s asked")
	peakLoad := 0.0
	for _, s := range r.Samples {
		peakLoad = max(peakLoad, s.Load)
	}
	if err := addLine(load, "load generator", series(func(s e2e.Sample) (float64, bool) { return s.Load, true }), 0, false); err != nil {
		return err
	}
	marks(load, peakLoad)

	metrics := newPlot("HPA metrics / target (1 = at target)", "current / target")
	names := map[string]bool{}
	for _, s := range r.Samples {
		for n := range s.Metrics {
			names[n] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	peakRatio := 1.0
	for i, n := range sorted {
		xy := series(func(s e2e.Sample) (float64, bool) {
			m, ok := s.Metrics[n]
			if !ok || m.Target == 0 {
				return 0, false
			}
			peakRatio = max(peakRatio, m.Current/m.Target)
			return m.Current / m.Target, true
		})
		if err := addLine(metrics, n, xy, i, false); err != nil {
			return err
		}
	}
	target, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 1}, {X: x(r.Samples[len(r.Samples)-1].T), Y: 1}})
	target.Color = color.Black
	target.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	metrics.Add(target)
	marks(metrics, peakRatio)

	reps := newPlot("replicas", "pods")
	peak := 0.0
	for _, s := range r.Samples {
		peak = max(peak, float64(s.Spec), float64(s.Pods))
	}
	for i, l := range []struct {
		name string
		f    func(e2e.Sample) float64
	}{
		{"desired (HPA, spec.replicas)", func(s e2e.Sample) float64 { return float64(s.Spec) }},
		{"Ready", func(s e2e.Sample) float64 { return float64(s.Ready) }},
		{"master + synced replicas", func(s e2e.Sample) float64 { return float64(s.Synced) }},
	} {
		if err := addLine(reps, l.name, series(func(s e2e.Sample) (float64, bool) { return l.f(s), true }), i, i == 0); err != nil {
			return err
		}
	}
	reps.Y.Min, reps.Y.Max = 0, peak+1
	marks(reps, peak+1)

	const width, height = 10 * vg.Inch, 10 * vg.Inch
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 3, Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	canvases := plot.Align([][]*plot.Plot{{load}, {metrics}, {reps}}, tiles, dc)
	load.Draw(canvases[0][0])
	metrics.Draw(canvases[1][0])
	reps.Draw(canvases[2][0])
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = vgimg.PngCanvas{Canvas: img}.WriteTo(f)
	return err
}
