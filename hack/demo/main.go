// Command demo is `make run`: the whole product on a laptop. It starts the
// local control plane (test/cluster), installs deploy/base and the example
// Redis group as a user would, ramps load up and back down while a SET +
// WAIT 1 writer runs, shows the loop live, and ends with a summary, a PNG
// plot and a JSON of the run. Ctrl-C stops everything; nothing is left
// running or on disk but the plot and the JSON.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
	"github.com/redis-autoscaler/redis-autoscaler/test/e2e"
)

func main() {
	var o options
	flag.DurationVar(&o.ramp, "ramp", 60*time.Second, "Time the load takes to rise (and again to fall)")
	flag.Float64Var(&o.peak, "peak", 8000, "Peak load, commands per second (at most 50000)")
	flag.StringVar(&o.out, "out", ".", "Directory for redis-autoscaler-demo.png and .json")
	flag.BoolVar(&o.plain, "plain", false, "One plain line per second even on a terminal")
	flag.Parse()
	if !term.IsTerminal(int(os.Stdout.Fd())) || !term.IsTerminal(int(os.Stdin.Fd())) {
		o.plain = true
	}
	// SIGHUP too: a closed terminal stops the demo as Ctrl-C does.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	err := run(ctx, o)
	stop()
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Println("interrupted: everything stopped and removed")
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "make run:", err)
		os.Exit(1)
	}
}

type options struct {
	ramp  time.Duration
	peak  float64
	out   string
	plain bool
}

// The demo's HPA: the example's three signals with targets a laptop
// reaches, 2 to 6 pods, and a 15 s scale-down window instead of 300 s.
var demoMetrics = []autoscalingv2.MetricSpec{
	e2e.PodsMetric("redis_ops_per_second", "1500"),
	e2e.PodsMetric("redis_response_time_seconds", "50m"),
	e2e.PodsMetric("redis_memory_fraction", "500m"),
}

const minReplicas, maxReplicas = 2, 6

func step(format string, args ...any) {
	fmt.Printf("[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, o options) error {
	if _, err := cluster.FindBinaries(); err != nil {
		return fmt.Errorf("%w (make run builds them first: make k8s-binaries)", err)
	}
	// The binary goes to the user's cache, not a temp dir: nothing is left
	// behind even when the demo is killed, and the next run reuses it.
	cache, err := os.UserCacheDir()
	if err != nil {
		return err
	}
	binDir := filepath.Join(cache, "redis-autoscaler", "demo")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	step("building the redis-autoscaler binary (go build; ~30 s the first time)")
	bin, err := cluster.BuildRedisAutoscaler(binDir)
	if err != nil {
		return err
	}
	step("starting etcd, kube-apiserver, kube-controller-manager and the pod runner (a few seconds)")
	// The cluster's own logs go to its directory, not the screen.
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := cluster.StartContext(ctx, cluster.Options{RedisAutoscalerBin: bin, Logger: quiet})
	if err != nil {
		return err
	}
	defer func() {
		step("stopping every process and removing the cluster's directory")
		c.Stop()
	}()
	step("installing deploy/base and deploy/examples/redis-group as a user would (kubectl apply -k)")
	env, err := e2e.Install(ctx, c, e2e.Options{
		Replicas: minReplicas, MinReplicas: minReplicas, MaxReplicas: maxReplicas,
		Metrics: demoMetrics, ScaleDownWindow: 15 * time.Second,
		AdapterArgs: []string{"--interval=1s", "--window=10s"},
		Progress:    step,
	})
	if err != nil {
		return err
	}
	step("KUBECONFIG=%s  (kubectl works while the demo runs)", c.KubeconfigPath)

	load := env.StartLoad(ctx)
	defer load.Stop()
	v := newView(o.plain)
	rec := env.Record(ctx, load.Rate, v.event)
	defer rec.Stop()
	w := env.StartWriter(ctx)
	defer w.Close()

	// The ramp: a quiet start, up, a plateau, down, then quiet until the
	// group is back at its minimum.
	sched := []struct {
		d        time.Duration
		from, to float64
	}{
		{15 * time.Second, 200, 200},
		{o.ramp, 200, o.peak},
		{o.ramp * 2 / 3, o.peak, o.peak},
		{o.ramp, o.peak, 200},
	}
	var changes []e2e.Change
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	start := time.Now()
	for _, ph := range sched {
		phaseStart := time.Now()
		if ph.from != ph.to {
			changes = append(changes, e2e.Change{At: phaseStart, Up: ph.to > ph.from})
		}
		for time.Since(phaseStart) < ph.d {
			f := float64(time.Since(phaseStart)) / float64(ph.d)
			load.SetRate(ph.from + (ph.to-ph.from)*f)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			}
			v.frame(time.Since(start), rec.Last(), rec.Samples())
		}
	}
	load.SetRate(200)
	settle := time.Now()
	for time.Since(settle) < 3*time.Minute {
		last := rec.Last()
		if last.Spec == minReplicas && last.Synced == minReplicas && last.Pods == minReplicas {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		v.frame(time.Since(start), rec.Last(), rec.Samples())
	}
	load.SetRate(0)
	v.done()

	keys := w.Finish()
	rep := &e2e.Report{Acked: len(keys), Unacked: w.Failed()}
	// Pods removed last may still be in their grace period.
	if err := env.WaitConverged(ctx, minReplicas, time.Minute); err != nil {
		rep.VerifyError = err.Error()
	}
	rep.OnMaster, err = env.CountOnMaster(ctx, keys)
	if err != nil {
		rep.VerifyError = err.Error()
	} else if err := env.VerifyKeys(ctx, keys); err != nil && rep.VerifyError == "" {
		rep.VerifyError = err.Error()
	}
	rec.Stop()
	rep.Samples, rep.Events = rec.Samples(), rec.Events()
	for _, s := range rep.Samples {
		rep.PeakReplicas = max(rep.PeakReplicas, s.Spec)
	}
	rep.Reactions = e2e.Reactions(rep.Samples, changes, "redis_ops_per_second")
	rep.WritePauses = e2e.WritePauses(rep.Events)

	fmt.Println()
	fmt.Print(rep.Summary())
	png := filepath.Join(o.out, "redis-autoscaler-demo.png")
	js := filepath.Join(o.out, "redis-autoscaler-demo.json")
	if err := writePlot(rep, png); err != nil {
		return err
	}
	if err := rep.WriteJSON(js); err != nil {
		return err
	}
	step("wrote %s and %s (%d samples, %d events) in %v", png, js, len(rep.Samples), len(rep.Events), time.Since(start).Round(time.Second))
	if rep.VerifyError != "" {
		return fmt.Errorf("acknowledged writes check: %s", rep.VerifyError)
	}
	return nil
}

// view shows the loop: a screen redrawn every second on a terminal, or a
// plain line a second (and a line per event) otherwise.
type view struct {
	plain  bool
	mu     sync.Mutex
	recent []e2e.Event
}

func newView(plain bool) *view { return &view{plain: plain} }

func (v *view) event(ev e2e.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.plain {
		fmt.Println("event", ev)
		return
	}
	v.recent = append(v.recent, ev)
	if len(v.recent) > 12 {
		v.recent = v.recent[len(v.recent)-12:]
	}
}

var metricOrder = []string{"redis_ops_per_second", "redis_response_time_seconds", "redis_memory_fraction"}

func (v *view) frame(elapsed time.Duration, s e2e.Sample, history []e2e.Sample) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.plain {
		line := fmt.Sprintf("t=%ds load=%.0f replicas=%d desired=%d pods=%d ready=%d synced=%d master=%s",
			int(elapsed.Seconds()), s.Load, s.Spec, s.Desired, s.Pods, s.Ready, s.Synced, s.Master)
		for _, n := range metricOrder {
			if m, ok := s.Metrics[n]; ok {
				line += fmt.Sprintf(" %s=%.4g/%.4g", n, m.Current, m.Target)
			}
		}
		fmt.Println(line)
		return
	}
	fmt.Print("\033[H\033[2J")
	fmt.Printf("redis-autoscaler demo   t=%ds   load %.0f ops/s   (Ctrl-C stops and cleans up)\n\n", int(elapsed.Seconds()), s.Load)
	fmt.Printf("  replicas  desired %d   spec %d   pods %d   ready %d   synced %d   master %s\n\n", s.Desired, s.Spec, s.Pods, s.Ready, s.Synced, s.Master)
	for _, n := range metricOrder {
		m, ok := s.Metrics[n]
		if !ok {
			fmt.Printf("  %-30s (not read yet)\n", n)
			continue
		}
		fmt.Printf("  %-30s %10.4g / %-8.4g %s\n", n, m.Current, m.Target, sparkline(history, n, 40))
	}
	fmt.Println("\n  events")
	for _, ev := range v.recent {
		fmt.Println("   ", ev)
	}
}

func (v *view) done() {
	if !v.plain {
		fmt.Println()
	}
}

// sparkline draws the last n values of current/target of a metric.
func sparkline(history []e2e.Sample, metric string, n int) string {
	bars := []rune("▁▂▃▄▅▆▇█")
	if len(history) > n {
		history = history[len(history)-n:]
	}
	out := make([]rune, 0, n)
	for _, s := range history {
		m, ok := s.Metrics[metric]
		if !ok || m.Target == 0 {
			out = append(out, ' ')
			continue
		}
		// 0..2 × target over the eight bars; the middle is the target.
		i := int(m.Current / m.Target * 4)
		out = append(out, bars[max(0, min(i, len(bars)-1))])
	}
	return string(out)
}
