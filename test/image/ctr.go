package image

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// Namespace is containerd's namespace for the kubelet's images (the CRI
// plugin's).
const Namespace = "k8s.io"

// Import loads a docker-archive into the containerd at address, in the
// kubelet's namespace. ctr 1.6 reads the docker format as it is and, with
// no flags, unpacks it into the default snapshotter (overlayfs) for this
// platform, so the first pod starts without an unpack; RepoTags are
// normalised (redis:7.0 becomes docker.io/library/redis:7.0), the name
// the CRI looks up for "redis:7.0". ctrPath "" is ctr from PATH.
func Import(ctx context.Context, ctrPath, address, archive string) error {
	if ctrPath == "" {
		ctrPath = "ctr"
	}
	args := []string{"--address", address, "-n", Namespace, "images", "import", archive}
	out, err := exec.CommandContext(ctx, ctrPath, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", ctrPath, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
