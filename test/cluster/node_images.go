package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/redis-autoscaler/redis-autoscaler/test/image"
)

// imageCacheDir keeps assembled image archives between runs, named by the
// digest of their inputs, so an unchanged image is imported, not rebuilt.
func imageCacheDir() string {
	return filepath.Join(filepath.Dir(filepath.Dir(DefaultKubeBinDir())), "images")
}

// importImages assembles (or reuses) and imports into the node's
// containerd the images pods run: the pause sandbox, Redis from Debian's
// packages (the examples' redis:7.0) and this project's image from the
// checkout's source, under the name the bundle and chart use.
func (c *Cluster) importImages(ctx context.Context) error {
	cache := imageCacheDir()
	binDir := filepath.Join(cache, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	start := time.Now()
	version := ImageVersion()
	if err := image.BuildProductBinaries(ctx, repoRoot(), binDir, version); err != nil {
		return err
	}
	pause, err := buildPause(ctx, binDir)
	if err != nil {
		return err
	}
	c.node.Timings["images.build"] = time.Since(start)
	redis, err := image.RedisImage()
	if err != nil {
		return err
	}
	images := []image.Image{
		image.ProductImage(binDir, version),
		redis,
		{
			Name:       PauseImage,
			Files:      []image.File{{Path: "/pause", Mode: 0o755, Src: pause}},
			User:       "65535:65535",
			Entrypoint: []string{"/pause"},
		},
	}
	start = time.Now()
	used := map[string]bool{}
	for _, im := range images {
		archive, err := im.CachedArchive(cache)
		if err != nil {
			return fmt.Errorf("image %s: %w", im.Name, err)
		}
		used[archive] = true
		if err := image.Import(ctx, c.node.bins.Ctr, c.node.containerdSocket, archive); err != nil {
			return fmt.Errorf("import %s: %w", im.Name, err)
		}
	}
	c.node.Timings["images.import"] = time.Since(start)
	pruneArchives(cache, used)
	return nil
}

// pruneArchives removes cached archives of earlier builds (every commit
// stamps a new version, ~100 MB each) once they are a day old, so that the
// cache holds what recent runs used.
func pruneArchives(dir string, used map[string]bool) {
	old, _ := filepath.Glob(filepath.Join(dir, "*.tar"))
	for _, p := range old {
		if st, err := os.Stat(p); err == nil && !used[p] && time.Since(st.ModTime()) > 24*time.Hour {
			_ = os.Remove(p)
		}
	}
}

// ImageVersion is the version stamped into the product image's binaries:
// `git describe`, as the Makefile's VERSION, or "dev".
func ImageVersion() string {
	if v := os.Getenv("VERSION"); v != "" {
		return v
	}
	out, err := exec.Command("git", "-C", repoRoot(), "describe", "--tags", "--always", "--dirty").Output()
	if err != nil {
		return "dev"
	}
	return strings.TrimSpace(string(out))
}

// buildPause builds hack/pause (static) into dir.
func buildPause(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "pause")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./hack/pause")
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build pause: %v\n%s", err, b)
	}
	return out, nil
}

// timings renders the node's start-up steps for a log line.
func (n *realNode) timings() string {
	keys := make([]string, 0, len(n.Timings))
	for k := range n.Timings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+n.Timings[k].Round(10*time.Millisecond).String())
	}
	return strings.Join(parts, " ")
}
