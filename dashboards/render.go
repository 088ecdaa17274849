package dashboards

//lint:file-ignore SA1019 The classic dashboard model (v1 JSON) is what every Grafana version and the grafana_dashboard ConfigMap sidecar import; the SDK's dashboardv2 is the Grafana 12+ schema.

import (
	"bytes"
	"encoding/json"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// Files maps each dashboard's file name (in dashboards/) to its builder.
var Files = map[string]func(Options) (dashboard.Dashboard, error){
	"redis-overview.json":    Overview,
	"redis-autoscaling.json": Autoscaling,
}

// Dirs are where `make dashboards` writes each file, from the repository
// root: here, and the copies the monitoring component and the chart ship.
var Dirs = []string{"dashboards", "deploy/components/monitoring/dashboards", "deploy/helm/redis-autoscaler/dashboards"}

// JSON renders a dashboard as `make dashboards` writes it.
func JSON(build func(Options) (dashboard.Dashboard, error), o Options) ([]byte, error) {
	d, err := build(o)
	if err != nil {
		return nil, err
	}
	assignIDs(&d)
	// PromQL's < and > stay readable: no HTML escaping.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// assignIDs numbers panels (rows included) from 1 in order, so ids are
// stable across generations and never repeat.
func assignIDs(d *dashboard.Dashboard) {
	var id uint32
	for i := range d.Panels {
		id++
		switch p := d.Panels[i]; {
		case p.Panel != nil:
			v := id
			p.Panel.Id = &v
		case p.RowPanel != nil:
			p.RowPanel.Id = id
		}
	}
}
