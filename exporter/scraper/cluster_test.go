package scraper

import (
	"net"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseClusterNodes(t *testing.T) {
	const text = "eaf69c70d876558a948ba62af0884a37d42c9627 127.0.0.1:7002@17002 master - 0 1742836359057 3 connected 10923-16383\n" +
		"07c37dfeb235213a872192d90877d0cd55635b91 10.0.0.2:6379@16379,redis-1.cache myself,master - 0 0 1 connected 0-5460\n" +
		"e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca :0@0 master,noaddr - 0 0 0 disconnected\n" +
		"6ec23923021cf3ffec47632106199cb7f496ce01 [::1]:7003@17003 slave 07c37dfeb235213a872192d90877d0cd55635b91 0 0 1 connected\n" +
		"garbage\n" +
		"x 10.0.0.9:99999@1 master - 0 0 0 connected\n"
	for _, tc := range []struct {
		name      string
		hostnames bool
		want      []string
	}{
		{"by ip", false, []string{"127.0.0.1:7002", "10.0.0.2:6379", "[::1]:7003"}},
		{"by hostname where announced", true, []string{"127.0.0.1:7002", "redis-1.cache:6379", "[::1]:7003"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ParseClusterNodes(text, tc.hostnames))
		})
	}
}

// Whatever CLUSTER NODES holds, every node listed is a usable host:port.
func FuzzParseClusterNodes(f *testing.F) {
	f.Add("eaf69c70 127.0.0.1:7002@17002 master - 0 1742836359057 3 connected 10923-16383\n", true)
	f.Add("x 1.2.3.4:5@6,a]b master\ny 1.2.3.4:5@6,a/b master\n", true)
	f.Add("a 10.0.0.2:6379@16379,redis-1 myself,master - 0 0 1 connected\nb :0@0 noaddr\n", false)
	f.Fuzz(func(t *testing.T, text string, hostnames bool) {
		for _, n := range ParseClusterNodes(text, hostnames) {
			host, port, err := net.SplitHostPort(n)
			if err != nil || host == "" {
				t.Fatalf("%q: not host:port: %v", n, err)
			}
			if u, err := url.Parse("redis://" + n); err != nil || u.Port() != port {
				t.Fatalf("%q: not a URL's host: %v", n, err)
			}
			if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
				t.Fatalf("%q: bad port", n)
			}
		}
	})
}
