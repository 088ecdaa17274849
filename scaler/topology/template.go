package topology

import "strings"

// Template is what the scaler reads of a group's StatefulSet: the parts
// the no-lost-writes guarantee needs (scaler/README.md, "What is
// guaranteed").
type Template struct {
	// OnDelete: updateStrategy OnDelete (the scaler deletes the pods of
	// a rollout). With RollingUpdate it paces the StatefulSet controller
	// through the partition instead: either is safe.
	OnDelete bool
	// PreStop: the Redis container has a preStop hook.
	PreStop bool
	// Args are the Redis container's command and args, token by token.
	Args []string
}

// Placeholder is whether pods start as replicas of the placeholder.
type Placeholder int

const (
	// PlaceholderUnknown: the args name a config file, which the scaler
	// does not read (the example sets it there).
	PlaceholderUnknown Placeholder = iota
	// PlaceholderSet: --replicaof 127.0.0.1 1 in the args.
	PlaceholderSet
	// PlaceholderMissing: neither in the args nor a config file.
	PlaceholderMissing
)

// Placeholder reads the args.
func (t Template) Placeholder() Placeholder {
	var flat []string
	for _, a := range t.Args {
		flat = append(flat, strings.Fields(a)...)
	}
	conf := false
	for i, a := range flat {
		if (a == "--replicaof" || a == "--slaveof") && i+2 < len(flat) && flat[i+1] == "127.0.0.1" && flat[i+2] == "1" {
			return PlaceholderSet
		}
		conf = conf || strings.HasSuffix(a, ".conf")
	}
	if conf {
		return PlaceholderUnknown
	}
	return PlaceholderMissing
}

// Gaps names, for each setting the guarantee needs that the template
// lacks, the fix and what goes wrong without it. None: the template has
// what the guarantee needs, as far as the scaler can tell.
func (t Template) Gaps() []string {
	var gaps []string
	if t.Placeholder() == PlaceholderMissing {
		gaps = append(gaps, "start pods as replicas of a placeholder (--replicaof 127.0.0.1 1): "+
			"a pod restarted in place comes back an empty master, and its replicas resync from it")
	}
	if !t.PreStop {
		gaps = append(gaps, "a preStop sleep of a few seconds (terminationGracePeriodSeconds above it): "+
			"a master being deleted exits before the scaler hands it over")
	}
	return gaps
}
