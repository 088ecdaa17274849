// Command pause is the pod sandbox process of the test cluster's real node
// (test/cluster, NodeReal): it holds the pod's namespaces, reaps the
// zombies a shared PID namespace would leave, and exits on SIGTERM or
// SIGINT, as Kubernetes' own pause does. Built from source because no
// registry is reachable to pull registry.k8s.io/pause.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
