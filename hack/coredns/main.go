// Command coredns is CoreDNS with a reduced plugin set: what a cluster DNS for
// the local test cluster needs (the kubernetes plugin plus the usual server
// plugins), and none of the cloud backends that core/plugin would pull in.
//
// This is the way CoreDNS documents building with a custom plugin set: set
// dnsserver.Directives to the ordered list of directives and import the
// plugins that register them, instead of importing core/plugin.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	// Each import registers the plugin with caddy; the directive it serves
	// must also appear in directives below.
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/whoami"
)

// directives is the plugin chain order. It must be a subsequence of upstream's
// plugin.cfg order (core/dnsserver/zdirectives.go): the position in this list,
// not in the Corefile, decides which plugin sees a query first. A directive
// that is not listed is rejected as "Unknown directive" even when its plugin
// is compiled in.
var directives = []string{
	"metadata", // compiled in anyway: cache, forward and kubernetes import it
	"bind",
	"debug", // compiled in anyway: forward imports it
	"ready",
	"health",
	"prometheus", // plugin/metrics
	"errors",
	"log",
	"dnstap", // compiled in anyway: forward imports it
	"loadbalance",
	"cache",
	"transfer", // compiled in anyway: kubernetes imports it (AXFR)
	"hosts",
	"kubernetes",
	"loop",
	"forward",
	"whoami",
}

func init() {
	dnsserver.Directives = directives
}

func main() {
	coremain.Run()
}
