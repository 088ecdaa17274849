// Command dashboards is `make dashboards`: it writes every dashboard of
// package dashboards as JSON into dashboards/, and copies for the
// monitoring component and the Helm chart (kustomize and Helm read files
// only below their own roots). The committed JSON must be what this
// writes (a test checks); never edit it by hand.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/redis-autoscaler/redis-autoscaler/dashboards"
)

func main() {
	for name, build := range dashboards.Files {
		b, err := dashboards.JSON(build)
		for _, dir := range dashboards.Dirs {
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
