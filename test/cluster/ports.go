package cluster

import (
	"fmt"
	"net"
	"strconv"
)

// freePorts returns n distinct free loopback ports. They are released before
// the caller binds them, so another process could take one in between; the
// window is tiny and a clash fails start-up loudly. All listeners stay open
// until every port is chosen, so the kernel cannot hand out one twice.
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// canBind reports whether ip:port is free right now.
func canBind(ip string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
