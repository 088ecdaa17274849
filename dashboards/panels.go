package dashboards

//lint:file-ignore SA1019 The classic dashboard model (v1 JSON) is what every Grafana version and the grafana_dashboard ConfigMap sidecar import; the SDK's dashboardv2 is the Grafana 12+ schema.

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

var datasource = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

// query is one PromQL target with a legend.
func query(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legend).Datasource(datasource)
}

// series is a time-series panel: title, description, unit, queries.
func series(title, description, unit string, queries ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().Title(title).Description(description).Unit(unit).
		Datasource(datasource).Height(8).Span(12)
	for _, q := range queries {
		p.WithTarget(q)
	}
	return p
}

// single is a stat panel.
func single(title, description, unit string, queries ...*prometheus.DataqueryBuilder) *stat.PanelBuilder {
	p := stat.NewPanelBuilder().Title(title).Description(description).Unit(unit).
		Datasource(datasource).Height(4).Span(8)
	for _, q := range queries {
		p.WithTarget(q)
	}
	return p
}

// Options change what the generator writes.
type Options struct {
	// MultiCluster shows the cluster variable (for a Prometheus or Thanos
	// holding several clusters' series with a cluster label). Hidden by
	// default: with one cluster it has nothing to choose, and its "All"
	// value (.*) also matches series without a cluster label.
	MultiCluster bool
}

// chained is a query variable whose values are a label's values on the
// dashboard's main metric, restricted by the variables before it.
type chained struct {
	name, label, matchers string
	// metric, when set, replaces the dashboard's main metric.
	metric string
}

// variables adds datasource, the (hidden) cluster, then the chain, each
// chained on metric and on the cluster.
func variables(b *dashboard.DashboardBuilder, o Options, metric string, chain []chained) {
	b.WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("Data source").Type("prometheus"))
	hide := dashboard.VariableHideHideVariable
	if o.MultiCluster {
		hide = dashboard.VariableHideDontHide
	}
	b.WithVariable(queryVariable("cluster", `label_values(`+metric+`, cluster)`).Hide(hide))
	for _, v := range chain {
		m := `cluster=~"$cluster"`
		if v.matchers != "" {
			m += ", " + v.matchers
		}
		from := metric
		if v.metric != "" {
			from = v.metric
		}
		b.WithVariable(queryVariable(v.name, `label_values(`+from+`{`+m+`}, `+v.label+`)`))
	}
}

// queryVariable is a multi-value variable with "All" as .* (which also
// matches series without the label).
func queryVariable(name, query string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).Label(name).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).Definition(query).
		Datasource(datasource).Multi(true).IncludeAll(true).AllValue(".*").
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortAlphabeticalAsc)
}
