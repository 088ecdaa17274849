// Command prometheusrule is `make alerts`: it writes dashboards/alerts.yaml
// as the PrometheusRule of the monitoring component and of the Helm chart.
// The deploy tests fail when the committed copies differ from its output.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/redis-autoscaler/redis-autoscaler/dashboards/promrule"
)

func main() {
	if err := run("."); err != nil {
		fmt.Fprintln(os.Stderr, "prometheusrule:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	b, err := os.ReadFile(filepath.Join(root, promrule.Source))
	if err != nil {
		return err
	}
	comp, tmpl, err := promrule.Render(string(b))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, promrule.Component), []byte(comp), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, promrule.Chart), []byte(tmpl), 0o644)
}
