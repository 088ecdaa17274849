package image

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// repoFile reads a file of the checkout (this package is test/image).
func repoFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", rel))
	require.NoError(t, err)
	return string(b)
}

// The harness's product image is the Dockerfile's: same base contents,
// binaries built the same way, same files, user, ports, entrypoint and
// command. A change to either side fails here until the other follows.
func TestDockerfileFinalStageAgrees(t *testing.T) {
	stages, err := parseDockerfile(repoFile(t, "Dockerfile"))
	require.NoError(t, err)
	const version = "v1.2.3-test"
	require.Empty(t, productMismatches(stages, ProductImage("/bin-dir", version), version))

	// -buildvcs=false in productBuildArgs stands for this.
	require.Contains(t, strings.Fields(repoFile(t, ".dockerignore")), ".git/",
		".dockerignore no longer keeps .git out of the build: drop -buildvcs=false from productBuildArgs")
}

// dockerfileText is the Dockerfile as it was when ProductImage was
// written: the rows below change one thing each and expect the
// comparison to notice.
const dockerfileText = `# Multi-stage build.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# Two binaries.
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/redis-autoscaler/redis-autoscaler/exporter.Version=${VERSION}" \
    -o /out/ ./cmd/redis-autoscaler ./cmd/redis-exporter

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/redis-autoscaler /out/redis-exporter /usr/local/bin/
USER 65532:65532
EXPOSE 9121
ENTRYPOINT ["/usr/local/bin/redis-autoscaler"]
CMD ["exporter"]
`

func TestProductMismatches(t *testing.T) {
	for name, tc := range map[string]struct {
		old, new string
		want     string       // a substring of one mismatch; "" for none
		image    func(*Image) // a change on ProductImage's side
	}{
		"unchanged":            {},
		"user":                 {old: "USER 65532:65532", new: "USER 1000", want: "USER: Dockerfile 1000"},
		"user name":            {old: "USER 65532:65532", new: "USER nonroot:nonroot", want: "USER: Dockerfile nonroot:nonroot"},
		"port":                 {old: "EXPOSE 9121", new: "EXPOSE 9121 8080", want: "EXPOSE"},
		"udp":                  {old: "EXPOSE 9121", new: "EXPOSE 9121/udp", want: "EXPOSE"},
		"entrypoint":           {old: `ENTRYPOINT ["/usr/local/bin/redis-autoscaler"]`, new: `ENTRYPOINT ["/usr/local/bin/redis-exporter"]`, want: "ENTRYPOINT"},
		"entrypoint shell":     {old: `ENTRYPOINT ["/usr/local/bin/redis-autoscaler"]`, new: `ENTRYPOINT /usr/local/bin/redis-autoscaler`, want: "ENTRYPOINT"},
		"cmd":                  {old: `CMD ["exporter"]`, new: `CMD ["scaler"]`, want: "CMD"},
		"cmd dropped":          {old: `CMD ["exporter"]`, new: ``, want: "CMD"},
		"one binary":           {old: "/out/redis-autoscaler /out/redis-exporter /usr/local/bin/", new: "/out/redis-autoscaler /usr/local/bin/", want: "files copied"},
		"another binary":       {old: "/out/redis-exporter /usr/local/bin/", new: "/out/redis-exporter /out/redis-backup /usr/local/bin/", want: "files copied"},
		"other directory":      {old: "/usr/local/bin/\n", new: "/bin/\n", want: "files copied"},
		"renamed":              {old: "COPY --from=build /out/redis-autoscaler /out/redis-exporter /usr/local/bin/", new: "COPY --from=build /out/redis-autoscaler /usr/local/bin/ra\nCOPY --from=build /out/redis-exporter /usr/local/bin/", want: "renames"},
		"chmod":                {old: "COPY --from=build", new: "COPY --chmod=0700 --from=build", want: "flags [--chmod=0700]"},
		"context file":         {old: "USER 65532", new: "COPY LICENSE /LICENSE\nUSER 65532", want: "from the build context"},
		"base":                 {old: "static-debian12:nonroot", new: "base-debian12:nonroot", want: "final base"},
		"env":                  {old: "USER 65532", new: "ENV GODEBUG=x509negativeserial=1\nUSER 65532", want: "not mirrored by ProductImage: ENV"},
		"workdir":              {old: "USER 65532", new: "WORKDIR /data\nUSER 65532", want: "not mirrored by ProductImage: WORKDIR"},
		"run in final":         {old: "USER 65532", new: "RUN true\nUSER 65532", want: "RUN not mirrored"},
		"cgo":                  {old: "CGO_ENABLED=0", new: "CGO_ENABLED=1", want: "go build environment"},
		"build flag":           {old: "-trimpath", new: "-trimpath -race", want: "go build arguments"},
		"ldflags":              {old: `-s -w -X`, new: `-s -X`, want: "go build arguments"},
		"version variable":     {old: "Version=${VERSION}", new: "Version=fixed", want: "go build arguments"},
		"build stage renamed":  {old: "AS build", new: "AS builder", want: "no such build stage"},
		"no go build":          {old: "RUN CGO_ENABLED=0 go build", new: "RUN CGO_ENABLED=0 go vet", want: "no RUN with go build"},
		"another package":      {old: "./cmd/redis-exporter\n", new: "./cmd/redis-exporter ./cmd/redis-backup\n", want: "go build arguments"},
		"comment continuation": {old: "-trimpath \\\n", new: "-trimpath \\\n    # stripped\n", want: ""},
		"image user":           {image: func(im *Image) { im.User = "65532" }, want: "USER"},
		"image cmd":            {image: func(im *Image) { im.Cmd = nil }, want: "CMD"},
		"image entrypoint":     {image: func(im *Image) { im.Entrypoint = []string{"/usr/local/bin/redis-exporter"} }, want: "ENTRYPOINT"},
		"image port":           {image: func(im *Image) { im.ExposedPorts = []string{"9121/tcp", "9443/tcp"} }, want: "EXPOSE"},
		"image extra binary": {image: func(im *Image) {
			im.Files = append(im.Files, File{Path: "/usr/local/bin/extra", Data: []byte{}})
		}, want: "files copied"},
	} {
		t.Run(name, func(t *testing.T) {
			text := dockerfileText
			if tc.old != "" {
				require.Contains(t, text, tc.old, "the row's text is not in dockerfileText")
				text = strings.Replace(text, tc.old, tc.new, 1)
			}
			stages, err := parseDockerfile(text)
			require.NoError(t, err)
			im := ProductImage("/bin-dir", "v9")
			if tc.image != nil {
				tc.image(&im)
			}
			diffs := productMismatches(stages, im, "v9")
			if tc.want == "" {
				require.Empty(t, diffs)
				return
			}
			require.NotEmpty(t, diffs, "the change went unnoticed")
			require.Contains(t, strings.Join(diffs, "\n"), tc.want)
		})
	}
}

func TestParseDockerfile(t *testing.T) {
	for name, tc := range map[string]struct {
		text string
		want []dockerStage
	}{
		"continuations and comments": {
			text: "ARG BASE=x\nFROM --platform=linux/amd64 alpine:3 AS one\n# note\nRUN a \\\n  # inner\n  b \\\n\n  c\n",
			want: []dockerStage{{From: "alpine:3", Name: "one", Runs: []string{"a b c"}}},
		},
		"copy forms": {
			text: "FROM scratch\nCOPY --from=one --chown=1:1 /a /b /dir/\nCOPY --from=one /c /renamed\nCOPY [\"/d\", \"/e/\"]\n",
			want: []dockerStage{{From: "scratch", Copies: []dockerCopy{
				{From: "one", Src: "/a", Dest: "/dir/a", Flags: []string{"--chown=1:1"}},
				{From: "one", Src: "/b", Dest: "/dir/b", Flags: []string{"--chown=1:1"}},
				{From: "one", Src: "/c", Dest: "/renamed"},
				{Src: "/d", Dest: "/e/d"},
			}}},
		},
		"exec and shell forms, ports": {
			text: "from scratch\nexpose 80 53/udp\nentrypoint [\"/x\", \"-v\"]\ncmd serve --fast\nuser 1:2\nlabel a=b\n",
			want: []dockerStage{{
				From: "scratch", Expose: []string{"80/tcp", "53/udp"}, User: "1:2",
				Entrypoint: []string{"/x", "-v"}, Cmd: []string{"/bin/sh", "-c", "serve --fast"},
				Other: []string{"label a=b"},
			}},
		},
		"two stages": {
			text: "FROM a AS b\nUSER 1\nFROM c\n",
			want: []dockerStage{{From: "a", Name: "b", User: "1"}, {From: "c"}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := parseDockerfile(tc.text)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	for name, text := range map[string]string{
		"empty":            "# nothing\n",
		"before FROM":      "USER 1\nFROM x\n",
		"bad exec form":    "FROM x\nCMD [\"a\",\n",
		"copy without dst": "FROM x\nCOPY a\n",
	} {
		t.Run("refused/"+name, func(t *testing.T) {
			_, err := parseDockerfile(text)
			require.Error(t, err)
		})
	}
}

func TestShellWords(t *testing.T) {
	for in, want := range map[string][]string{
		`A=1 go build -ldflags "-s -w -X a=b" ./x`: {"A=1", "go", "build", "-ldflags", "-s -w -X a=b", "./x"},
		`echo 'a "b"' c""d`:                        {"echo", `a "b"`, "cd"},
		`x ""`:                                     {"x", ""},
	} {
		got, err := shellWords(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{`go mod download && go build`, `echo "open`} {
		_, err := shellWords(in)
		require.Error(t, err, in)
	}
}

// The image's name is the one the bundle, the backup component and the
// chart pull.
func TestProductName(t *testing.T) {
	repo, tag, _ := strings.Cut(ProductName, ":")
	for _, file := range []string{"deploy/base/kustomization.yaml", "deploy/examples/redis-group/backup/kustomization.yaml"} {
		text := repoFile(t, file)
		require.Contains(t, text, "newName: "+repo, file)
		require.Contains(t, text, "newTag: "+tag, file)
	}
	require.Contains(t, repoFile(t, "deploy/helm/redis-autoscaler/values.yaml"), "repository: "+repo)
	require.Regexp(t, `(?m)^appVersion: "?`+regexp.QuoteMeta(tag)+`"?$`, repoFile(t, "deploy/helm/redis-autoscaler/Chart.yaml"))
}

func TestLicenseLabel(t *testing.T) {
	license := repoFile(t, "LICENSE")
	require.Contains(t, license, "Apache License")
	require.Contains(t, license, "Version 2.0, January 2004")
	require.Equal(t, "Apache-2.0", ProductImage("", "v").Labels["org.opencontainers.image.licenses"])
}
