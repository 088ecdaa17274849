// Command dashboards is `make dashboards`: it writes every dashboard of
// package dashboards as JSON into dashboards/, and copies for the
// monitoring component and the Helm chart (kustomize and Helm read files
// only below their own roots). The committed JSON must be what this
// writes (a test checks); never edit it by hand.
//
// With -multi-cluster -out DIR it writes variants whose cluster variable
// is shown, for a Prometheus (or Thanos) holding several clusters.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/redis-autoscaler/redis-autoscaler/dashboards"
)

func main() {
	var o dashboards.Options
	flag.BoolVar(&o.MultiCluster, "multi-cluster", false, "show the cluster variable")
	out := flag.String("out", "", "write only into this directory (default: the repository's copies)")
	flag.Parse()
	dirs := dashboards.Dirs
	if *out != "" {
		dirs = []string{*out}
	}
	for name, build := range dashboards.Files {
		b, err := dashboards.JSON(build, o)
		for _, dir := range dirs {
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, name), b, 0o644)
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "dashboards:", name, err)
			os.Exit(1)
		}
	}
}
