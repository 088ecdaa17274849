// Command redis-exporter is the exporter alone: the same program as
// `redis-autoscaler exporter`, linked without the adapter's API-server and
// the scaler's controller libraries, so that a sidecar in every Redis pod
// costs what an exporter should (a test keeps its import graph lean).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis-autoscaler/redis-autoscaler/exporter"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := exporter.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
