// Command cluster runs the local control plane and pod runner in the
// foreground for manual use (`make cluster`). It prints
//
//	export KUBECONFIG=<path>
//
// once the API server is ready and stops every process it started on
// Ctrl-C or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

func main() {
	dir := flag.String("dir", "", "cluster directory (default: a new temp dir, removed on exit)")
	keep := flag.Bool("keep", false, "keep the cluster directory on exit")
	bin := flag.String("redis-autoscaler-bin", os.Getenv("REDIS_AUTOSCALER_BIN"), "binary run for redis-autoscaler pods")
	debug := flag.Bool("debug", false, "debug logging")
	node := flag.String("node", cluster.NodeRunner, "kind of node: runner (pod runner) or real (kubelet, containerd, images, CoreDNS, kube-proxy)")
	flag.Parse()

	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)

	// `go run` leaves its child running when it is itself killed with
	// SIGTERM (it only ignores SIGINT); ask the kernel for a SIGTERM when
	// our parent dies so the control plane never outlives the session.
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0); errno != 0 {
		log.Warn("cannot set parent-death signal", "err", errno)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	startCtx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	c, err := cluster.StartContext(startCtx, cluster.Options{
		Dir: *dir, KeepDir: *keep, RedisAutoscalerBin: *bin, Logger: log, Node: *node,
	})
	cancel()
	if err != nil {
		log.Error("start cluster", "err", err)
		os.Exit(1)
	}
	fmt.Printf("export KUBECONFIG=%s\n", c.KubeconfigPath)
	log.Info("cluster running; Ctrl-C to stop", "dir", c.Dir, "logs", c.Dir+"/*.log")

	<-ctx.Done()
	log.Info("stopping")
	c.Stop()
}
