package image

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
)

// ProductName is the image deploy/base, the backup component and the
// chart (repository + appVersion) run.
const ProductName = "ghcr.io/redis-autoscaler/redis-autoscaler:0.1.0"

// productBase is the Dockerfile's final base, whose files ProductImage
// lays down itself; TestDockerfileFinalStageAgrees fails when the
// Dockerfile moves to another base.
const productBase = "gcr.io/distroless/static-debian12:nonroot"

// productBinaries are the programs the Dockerfile builds and copies to
// /usr/local/bin, in its order.
var productBinaries = []string{"redis-autoscaler", "redis-exporter"}

// hostCACertificates is Debian's ca-certificates bundle, the file
// distroless ships at the same path.
const hostCACertificates = "/etc/ssl/certs/ca-certificates.crt"

// nonroot is distroless's unprivileged user and group.
const nonroot = 65532

// Distroless static's accounts (its common/BUILD.bazel): root, nobody and
// nonroot.
const (
	distrolessPasswd = `root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
`
	distrolessGroup = `root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
`
)

// ProductImage is the Dockerfile's final stage: both binaries from binDir
// (BuildProductBinaries) on what the distroless static nonroot base
// provides (CA certificates, accounts, /tmp, the nonroot home as working
// directory), under ProductName.
func ProductImage(binDir, version string) Image {
	files := []File{
		{Path: "/etc/ssl/certs/ca-certificates.crt", Mode: 0o644, Src: hostCACertificates},
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte(distrolessPasswd)},
		{Path: "/etc/group", Mode: 0o644, Data: []byte(distrolessGroup)},
		// Go's resolver reads it; distroless has it so /etc/hosts wins.
		{Path: "/etc/nsswitch.conf", Mode: 0o644, Data: []byte("hosts: files dns\n")},
		{Path: "/tmp", Mode: fs.ModeSticky | 0o777, Dir: true},
		{Path: "/root", Mode: 0o700, Dir: true},
		{Path: "/home/nonroot", Mode: 0o700, Uid: nonroot, Gid: nonroot, Dir: true},
	}
	for _, b := range productBinaries {
		files = append(files, File{Path: "/usr/local/bin/" + b, Mode: 0o755, Src: filepath.Join(binDir, b)})
	}
	return Image{
		Name:  ProductName,
		Files: files,
		User:  "65532:65532",
		// Distroless's environment: the Dockerfile adds none.
		Env: []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
		},
		Entrypoint:   []string{"/usr/local/bin/redis-autoscaler"},
		Cmd:          []string{"exporter"},
		WorkingDir:   "/home/nonroot",
		ExposedPorts: []string{"9121/tcp"},
		Labels: map[string]string{
			"org.opencontainers.image.title":   "redis-autoscaler",
			"org.opencontainers.image.version": version,
			"org.opencontainers.image.source":  "https://github.com/redis-autoscaler/redis-autoscaler",
			// LICENSE is the Apache License 2.0 (TestLicenseLabel).
			"org.opencontainers.image.licenses": "Apache-2.0",
		},
	}
}

// productBuildArgs are the Dockerfile's `go build` arguments without its
// -o. -buildvcs=false stands for the .dockerignore's .git/: the image's
// binaries carry no VCS stamp, so ours do not either.
func productBuildArgs(version string) []string {
	return []string{
		"build", "-trimpath",
		"-ldflags", "-s -w -X github.com/redis-autoscaler/redis-autoscaler/exporter.Version=" + version,
		"-buildvcs=false",
		"./cmd/redis-autoscaler", "./cmd/redis-exporter",
	}
}

// BuildProductBinaries builds redis-autoscaler and redis-exporter from
// repoRoot into outDir as the Dockerfile's build stage does: static
// (CGO_ENABLED=0), -trimpath, stripped, VERSION stamped.
func BuildProductBinaries(ctx context.Context, repoRoot, outDir, version string) error {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("build product binaries: %w", err)
	}
	args := productBuildArgs(version)
	// A trailing slash: go build writes every main package into the
	// directory.
	args = append(args[:1], append([]string{"-o", filepath.Clean(outDir) + string(filepath.Separator)}, args[1:]...)...)
	cmd := exec.CommandContext(ctx, gobin, args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %v: %w\n%s", args, err, out)
	}
	return nil
}
