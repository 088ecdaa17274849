package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
)

// Board is the part of a generated dashboard's JSON that tests inspect:
// what Grafana would show and the queries it would run.
type Board struct {
	UID        string  `json:"uid"`
	Editable   bool    `json:"editable"`
	Panels     []Panel `json:"panels"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
			Hide int    `json:"hide"`
		} `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct {
			Name string `json:"name"`
			Expr string `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
}

// Panel is one panel (rows included) of a Board.
type Panel struct {
	ID          int    `json:"id"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	GridPos     struct{ X, Y, W, H int }
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// Query is one PromQL query of a dashboard and where it is.
type Query struct {
	Where, Expr string
}

// Load reads a dashboard's JSON.
func Load(path string) (Board, error) {
	var d Board
	b, err := os.ReadFile(path)
	if err != nil {
		return d, err
	}
	return d, json.Unmarshal(b, &d)
}

// Queries lists every query of the dashboard: each panel target and each
// annotation.
func (d Board) Queries() []Query {
	var out []Query
	for _, p := range d.Panels {
		for _, q := range p.Targets {
			out = append(out, Query{Where: fmt.Sprintf("panel %d %q", p.ID, p.Title), Expr: q.Expr})
		}
	}
	for _, a := range d.Annotations.List {
		out = append(out, Query{Where: fmt.Sprintf("annotation %q", a.Name), Expr: a.Expr})
	}
	return out
}
