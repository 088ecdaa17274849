package e2e

import (
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Stage is one step of a reaction, timed from the change that caused it.
type Stage struct {
	Name  string        `json:"name"`
	After time.Duration `json:"after"`
}

// Reaction times one scale-up or scale-down through its stages.
type Reaction struct {
	Direction string  `json:"direction"` // up or down
	From      int32   `json:"from"`
	To        int32   `json:"to"`
	Stages    []Stage `json:"stages"`
}

// Change is a change of load at a time, up or down.
type Change struct {
	At time.Time
	Up bool
}

// Reactions finds, after each load change, the stages the loop went
// through: the served metric crossing its target, the HPA's decision
// (spec.replicas changed), the pods Running and Ready (up) or removed
// (down), and every pod attached and in sync.
func Reactions(samples []Sample, changes []Change, metric string) []Reaction {
	var out []Reaction
	for _, ch := range changes {
		i := sort.Search(len(samples), func(i int) bool { return !samples[i].T.Before(ch.At) })
		if i >= len(samples) {
			continue
		}
		from := samples[max(i-1, 0)].Spec
		r := Reaction{Direction: "up", From: from}
		podsStage := "pods Running and Ready"
		if !ch.Up {
			r.Direction, podsStage = "down", "pods removed"
		}
		var to int32
		for _, s := range samples[i:] {
			m := s.Metrics[metric]
			after := s.T.Sub(ch.At)
			switch {
			case len(r.Stages) == 0 && m.Target > 0 && (m.Current > m.Target) == ch.Up:
				r.Stages = append(r.Stages, Stage{"metric crosses target", after})
			case len(r.Stages) == 1 && ((ch.Up && s.Spec > from) || (!ch.Up && s.Spec < from)):
				to = s.Spec
				r.To = to
				r.Stages = append(r.Stages, Stage{"HPA decision (spec.replicas)", after})
			case len(r.Stages) == 2 && ((ch.Up && s.Ready >= int(to)) || (!ch.Up && s.Pods <= int(to))):
				r.Stages = append(r.Stages, Stage{podsStage, after})
			}
			// The HPA may take further steps: each stage is reached when the
			// first decision's size is.
			if len(r.Stages) == 3 && ((ch.Up && s.Synced >= int(to)) || (!ch.Up && s.Synced <= int(to) && s.Synced > 0)) {
				r.Stages = append(r.Stages, Stage{"all attached and in sync", after})
				break
			}
		}
		if len(r.Stages) > 1 {
			out = append(out, r)
		}
	}
	return out
}

var pauseRE = regexp.MustCompile(`writes paused ([0-9.]+[µmn]?s)`)

// WritePauses are the write pauses of the switchovers among the events.
func WritePauses(events []Event) []time.Duration {
	var out []time.Duration
	for _, ev := range events {
		if ev.Reason != "Switchover" {
			continue
		}
		if m := pauseRE.FindStringSubmatch(ev.Message); m != nil {
			if d, err := time.ParseDuration(m[1]); err == nil {
				out = append(out, d)
			}
		}
	}
	return out
}

// Report is what a run shows at its end.
type Report struct {
	Samples      []Sample        `json:"samples"`
	Events       []Event         `json:"events"`
	Reactions    []Reaction      `json:"reactions"`
	WritePauses  []time.Duration `json:"write_pauses"`
	PeakReplicas int32           `json:"peak_replicas"`
	Acked        int             `json:"acknowledged_writes"`
	Unacked      int             `json:"unacknowledged_writes"`
	OnMaster     int             `json:"acknowledged_found_on_final_master"`
	VerifyError  string          `json:"verify_error,omitempty"`
}

func (re Reaction) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "scale %s %d -> %d:", re.Direction, re.From, re.To)
	for _, s := range re.Stages {
		fmt.Fprintf(&b, "  %s +%v", s.Name, s.After.Round(100*time.Millisecond))
	}
	return b.String()
}

// Summary is the report in a few lines.
func (r *Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "peak replicas: %d\n", r.PeakReplicas)
	for _, re := range r.Reactions {
		b.WriteString(re.String() + "\n")
	}
	if len(r.WritePauses) == 0 {
		b.WriteString("switchovers: none (the master was never among the pods removed)\n")
	}
	for i, p := range r.WritePauses {
		fmt.Fprintf(&b, "switchover %d: writes paused %v\n", i+1, p)
	}
	fmt.Fprintf(&b, "SET + WAIT 1 writes: %d acknowledged, %d not; %d of the acknowledged found on the final master",
		r.Acked, r.Unacked, r.OnMaster)
	if r.VerifyError != "" {
		fmt.Fprintf(&b, "; CHECK FAILED: %s", r.VerifyError)
	} else if r.Acked > 0 && r.OnMaster == r.Acked {
		b.WriteString(" (all of them, and on every synced replica)")
	}
	b.WriteString("\n")
	return b.String()
}

// WriteJSON writes the report with the raw time series.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// WritePlot draws three panels over time: load asked, each HPA metric as
// a fraction of its target (1 = at target), and replicas (HPA's spec,
// Ready, synced), with scaler and HPA events as vertical marks.
func (r *Report) WritePlot(path string) error {
	if len(r.Samples) == 0 {
		return fmt.Errorf("no samples")
	}
	t0 := r.Samples[0].T
	x := func(t time.Time) float64 { return t.Sub(t0).Seconds() }
	series := func(f func(Sample) (float64, bool)) plotter.XYs {
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
	if err := addLine(load, "load generator", series(func(s Sample) (float64, bool) { return s.Load, true }), 0, false); err != nil {
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
		xy := series(func(s Sample) (float64, bool) {
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
		f    func(Sample) float64
	}{
		{"desired (HPA, spec.replicas)", func(s Sample) float64 { return float64(s.Spec) }},
		{"Ready", func(s Sample) float64 { return float64(s.Ready) }},
		{"master + synced replicas", func(s Sample) float64 { return float64(s.Synced) }},
	} {
		if err := addLine(reps, l.name, series(func(s Sample) (float64, bool) { return l.f(s), true }), i, i == 0); err != nil {
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
