// Command dashboards is `make dashboards`: it writes every dashboard of
// package dashboards as JSON into dashboards/. The committed JSON must be
// what this writes (a test checks); never edit it by hand.
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
		if err == nil {
			err = os.WriteFile(filepath.Join("dashboards", name), b, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "dashboards:", name, err)
			os.Exit(1)
		}
	}
}
