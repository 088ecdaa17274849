// Command redis-autoscaler autoscales Redis on Kubernetes. One binary, one
// subcommand per program.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis-autoscaler/redis-autoscaler/adapter"
	"github.com/redis-autoscaler/redis-autoscaler/backup"
	"github.com/redis-autoscaler/redis-autoscaler/exporter"
	"github.com/redis-autoscaler/redis-autoscaler/scaler"
)

const usage = `redis-autoscaler: autoscale Redis on Kubernetes.

Usage:
  redis-autoscaler <command> [flags]

Commands:
  exporter   Prometheus exporter for Redis (INFO, latency, replication)
  adapter    custom.metrics.k8s.io API server serving Redis load to the HPA
  scaler     controller applying replica counts to Redis StatefulSets safely
  backup     stream a verified RDB snapshot of a Redis or a group to a file
  restore    replace a Redis' (or a group's) data with a backup, atomically
  version    Print the version

Run "redis-autoscaler <command> --help" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "exporter":
		return exporter.Main(ctx, args[1:], stdout, stderr)
	case "adapter":
		return adapter.Main(ctx, args[1:], stdout, stderr)
	case "scaler":
		return scaler.Main(ctx, args[1:], stdout, stderr)
	case "backup":
		return backup.MainBackup(ctx, args[1:], stdout, stderr)
	case "restore":
		return backup.MainRestore(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "redis-autoscaler", exporter.Version)
		return 0
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
