// Command image assembles the product and Redis images without Docker or
// a registry (test/image) and optionally imports them into a containerd:
//
//	go run ./hack/image -out DIR [-version V] [-import -address SOCK]
//
// It builds the binaries into DIR/bin, writes each archive into DIR named
// by its content (an unchanged image is not rewritten) and prints one
// "NAME<TAB>ARCHIVE" line per image.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/redis-autoscaler/redis-autoscaler/test/image"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	out := flag.String("out", "", "directory for the binaries (DIR/bin) and the archives (required)")
	version := flag.String("version", "", "version stamped into the binaries and the label (default: git describe, as the Makefile's VERSION)")
	repo := flag.String("repo", ".", "the checkout to build")
	doImport := flag.Bool("import", false, "import the archives into the containerd at -address, namespace k8s.io")
	address := flag.String("address", "", "containerd socket for -import")
	ctr := flag.String("ctr", "ctr", "ctr binary for -import")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		flag.Usage()
		return errors.New("-out is required")
	}
	if *doImport && *address == "" {
		return errors.New("-import needs -address")
	}
	if _, err := os.Stat(filepath.Join(*repo, "go.mod")); err != nil {
		return fmt.Errorf("-repo %s is not the checkout: %w", *repo, err)
	}
	if *version == "" {
		*version = gitVersion(*repo)
	}

	binDir := filepath.Join(*out, "bin")
	if err := image.BuildProductBinaries(ctx, *repo, binDir, *version); err != nil {
		return err
	}
	redis, err := image.RedisImage()
	if err != nil {
		return err
	}
	for _, im := range []image.Image{image.ProductImage(binDir, *version), redis} {
		archive, err := im.CachedArchive(*out)
		if err != nil {
			return err
		}
		fmt.Printf("%s\t%s\n", im.Name, archive)
		if *doImport {
			if err := image.Import(ctx, *ctr, *address, archive); err != nil {
				return err
			}
		}
	}
	return nil
}

// gitVersion is the Makefile's VERSION: git describe, or "dev".
func gitVersion(repo string) string {
	b, err := exec.Command("git", "-C", repo, "describe", "--tags", "--always", "--dirty").Output()
	if err != nil {
		return "dev"
	}
	return strings.TrimSpace(string(b))
}
