package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"
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

// WriteJSON writes the report with the raw time series. The demo module
// (hack/demo) draws the charts, so that plotting never enters this module.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
