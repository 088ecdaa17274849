package embedded

import (
	"math"
	"sort"
	"time"
)

// sample is what the adapter keeps of one scrape of one pod.
type sample struct {
	At       time.Time
	RunID    string
	Commands float64 // total_commands_processed
	Instant  float64 // instantaneous_ops_per_sec
	RTT      time.Duration
	Used     float64 // used_memory
	Max      float64 // maxmemory (0 = no limit)
	Clients  float64
	Replica  bool
	Lag      float64 // seconds, replicas only
	HasLag   bool
	// Stalled: the pod did not answer in time or answered BUSY; only At
	// and RTT (the stall, at least the timeout) are set. It counts in the
	// response time and nowhere else.
	Stalled bool
}

// window is a pod's recent samples, oldest first.
type window []sample

// add appends s and drops samples older than span before it.
func (w window) add(s sample, span time.Duration) window {
	w = append(w, s)
	cut := 0
	for cut < len(w)-1 && s.At.Sub(w[cut].At) > span {
		cut++
	}
	return append(window(nil), w[cut:]...)
}

// commandsPerScrape is the adapter's own INFO, counted by Redis between two
// samples; subtracted so ops/s is the clients' load.
const commandsPerScrape = 1

// opsPerSecond is the rate of the commands counter across the window. Only
// the samples since the last restart (run_id change) or counter reset are
// used, so a restart never yields a negative or huge value; with a single
// such sample, Redis' instantaneous_ops_per_sec stands in.
func (w window) opsPerSecond() (float64, time.Duration, bool) {
	w = w.answered()
	if len(w) == 0 {
		return 0, 0, false
	}
	last := w[len(w)-1]
	first := len(w) - 1
	for first > 0 && w[first-1].RunID == last.RunID && w[first-1].Commands <= w[first].Commands {
		first--
	}
	if first == len(w)-1 {
		return last.Instant, 0, true
	}
	span := last.At.Sub(w[first].At)
	if span <= 0 {
		return last.Instant, 0, true
	}
	scrapes := float64(len(w) - 1 - first)
	delta := math.Max(0, last.Commands-w[first].Commands-scrapes*commandsPerScrape)
	return delta / span.Seconds(), span, true
}

// answered is the samples with INFO (not stalled).
func (w window) answered() window {
	out := w[:0:0]
	for _, s := range w {
		if !s.Stalled {
			out = append(out, s)
		}
	}
	return out
}

// lastAnswered is the newest sample with INFO.
func (w window) lastAnswered() (sample, bool) {
	for i := len(w) - 1; i >= 0; i-- {
		if !w[i].Stalled {
			return w[i], true
		}
	}
	return sample{}, false
}

// responseTime is the q-quantile (nearest rank) of the probe round trips in
// the window, stalls included (each counts as at least the timeout).
func (w window) responseTime(q float64) (float64, time.Duration, bool) {
	if len(w) == 0 {
		return 0, 0, false
	}
	rtts := make([]float64, len(w))
	for i, s := range w {
		rtts[i] = s.RTT.Seconds()
	}
	sort.Float64s(rtts)
	rank := int(math.Ceil(q*float64(len(rtts)))) - 1
	rank = max(0, min(rank, len(rtts)-1))
	return rtts[rank], w[len(w)-1].At.Sub(w[0].At), true
}

// memoryFraction is used_memory over maxmemory, or over the container's
// memory limit when Redis has no maxmemory; ok is false with neither.
func memoryFraction(s sample, containerLimit float64) (float64, bool) {
	switch {
	case s.Max > 0:
		return s.Used / s.Max, true
	case containerLimit > 0:
		return s.Used / containerLimit, true
	default:
		return 0, false
	}
}
