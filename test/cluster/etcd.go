package cluster

import (
	"context"
	"fmt"
	"k8s.io/apimachinery/pkg/util/wait"
	"net/http"
	"path/filepath"
	"strconv"
	"time"
)

// startEtcd runs a single-member etcd with its data under dir. The data dir
// lives wherever the cluster dir lives; on /dev/shm fsync is free, which is
// the difference between sub-second and multi-second API writes on slow
// disks (etcd 3.4 has no --unsafe-no-fsync).
func (c *Cluster) startEtcd(ctx context.Context, clientPort, peerPort int) (string, error) {
	client := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peer := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	p, err := startProcess(processSpec{
		Name: "etcd",
		Path: c.bins.Etcd,
		Args: []string{
			"--name=default",
			"--data-dir=" + filepath.Join(c.Dir, "etcd"),
			"--listen-client-urls=" + client,
			"--advertise-client-urls=" + client,
			"--listen-peer-urls=" + peer,
			"--initial-advertise-peer-urls=" + peer,
			"--initial-cluster=default=" + peer,
			"--logger=zap",
			"--log-level=warn",
		},
		LogFile: filepath.Join(c.Dir, "etcd.log"),
	})
	if err != nil {
		return "", err
	}
	c.procs.add(p)
	c.etcd = p
	var last error
	err = wait.PollUntilContextTimeout(ctx, pollInterval, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		if p.exited() {
			return false, fmt.Errorf("etcd exited: %v\n%s", p.err, tailFile(filepath.Join(c.Dir, "etcd.log"), 20))
		}
		resp, err := http.Get(client + "/health")
		if err != nil {
			last = err
			return false, nil
		}
		resp.Body.Close()
		last = fmt.Errorf("/health: %s", resp.Status)
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return "", fmt.Errorf("wait for etcd: %w (last: %v)", err, last)
	}
	return client, nil
}
