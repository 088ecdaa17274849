package cluster

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// freePorts returns n distinct free loopback ports. They are released before
// the caller binds them, so another process could take one in between (with
// many test packages in parallel, an outgoing connection's ephemeral port
// does, now and then): callers retry with retryPortClash. All listeners stay open
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

// portClashAttempts bounds retryPortClash.
const portClashAttempts = 4

// retryPortClash runs start until it does not fail because its port was
// taken between freePorts and the bind; before each retry, undo stops what
// the failed attempt started. Other errors are returned at once.
func retryPortClash(start func() error, undo func()) error {
	var err error
	for range portClashAttempts {
		if err = start(); err == nil || !isPortClash(err) {
			return err
		}
		undo()
	}
	return fmt.Errorf("after %d attempts: %w", portClashAttempts, err)
}

// isPortClash recognises a bind failure in an error or in the log tail a
// start function wraps into it (the processes are not ours to inspect).
func isPortClash(err error) bool {
	return strings.Contains(err.Error(), "address already in use")
}
