package image

import (
	"archive/tar"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// sampleImage has every kind of entry, and a file whose parents nobody
// listed.
func sampleImage(t *testing.T) Image {
	t.Helper()
	src := filepath.Join(t.TempDir(), "prog")
	require.NoError(t, os.WriteFile(src, []byte("#!/bin/sh\necho hi\n"), 0o750))
	return Image{
		Name: "example.test/sample:1",
		Files: []File{
			{Path: "/usr/local/bin/prog", Src: src},
			{Path: "/etc/motd", Data: []byte("hello\n")},
			{Path: "/etc/empty", Data: []byte{}},
			{Path: "/bin", Link: "usr/bin"},
			{Path: "/tmp", Mode: fs.ModeSticky | 0o777, Dir: true},
			{Path: "/home/app", Mode: 0o700, Uid: 1000, Gid: 1001, Dir: true},
			{Path: "/home/app/.profile", Mode: 0o600, Uid: 1000, Gid: 1001, Data: []byte("x=1\n")},
		},
		User:         "1000:1001",
		Entrypoint:   []string{"/usr/local/bin/prog"},
		Cmd:          []string{"serve"},
		Env:          []string{"PATH=/usr/bin"},
		WorkingDir:   "/home/app",
		ExposedPorts: []string{"8080/tcp"},
		Labels:       map[string]string{"b": "2", "a": "1"},
	}
}

func TestWriteDockerArchive(t *testing.T) {
	im := sampleImage(t)
	dir := t.TempDir()
	first := filepath.Join(dir, "first.tar")
	digest, err := im.WriteDockerArchive(first)
	require.NoError(t, err)

	// Determinism: the same files listed in another order give the same
	// bytes, and Digest agrees without writing.
	reordered := im
	reordered.Files = slices.Clone(im.Files)
	slices.Reverse(reordered.Files)
	second := filepath.Join(dir, "second.tar")
	digest2, err := reordered.WriteDockerArchive(second)
	require.NoError(t, err)
	require.Equal(t, digest, digest2)
	b1, err := os.ReadFile(first)
	require.NoError(t, err)
	b2, err := os.ReadFile(second)
	require.NoError(t, err)
	require.Equal(t, b1, b2, "two writes differ")
	computed, err := im.Digest()
	require.NoError(t, err)
	require.Equal(t, digest, computed)

	a := openArchive(t, first)
	hex := strings.TrimPrefix(digest, "sha256:")
	layerHex := strings.TrimPrefix(a.config.RootFS.DiffIDs[0], "sha256:")
	require.Equal(t, []string{layerHex + "/", layerHex + "/layer.tar", hex + ".json", "manifest.json"}, a.names)
	require.Equal(t, []manifestEntry{{Config: hex + ".json", RepoTags: []string{"example.test/sample:1"}, Layers: []string{layerHex + "/layer.tar"}}}, a.manifest)
	require.Equal(t, "amd64", a.config.Architecture)
	require.Equal(t, "linux", a.config.OS)
	require.Equal(t, "layers", a.config.RootFS.Type)
	require.Equal(t, containerConfig{
		User:         "1000:1001",
		Env:          []string{"PATH=/usr/bin"},
		Entrypoint:   []string{"/usr/local/bin/prog"},
		Cmd:          []string{"serve"},
		WorkingDir:   "/home/app",
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Labels:       map[string]string{"a": "1", "b": "2"},
	}, a.config.Config)

	hdrs, contents, order := layerEntries(t, a.layer)
	require.True(t, slices.IsSorted(order), "entries not sorted: %v", order)
	for _, tc := range []struct {
		name     string
		typ      byte
		mode     int64
		uid, gid int
		content  string
		link     string
	}{
		{name: "usr", typ: tar.TypeDir, mode: 0o755},
		{name: "usr/local", typ: tar.TypeDir, mode: 0o755},
		{name: "usr/local/bin", typ: tar.TypeDir, mode: 0o755},
		{name: "usr/local/bin/prog", typ: tar.TypeReg, mode: 0o750, content: "#!/bin/sh\necho hi\n"},
		{name: "etc", typ: tar.TypeDir, mode: 0o755},
		{name: "etc/motd", typ: tar.TypeReg, mode: 0o644, content: "hello\n"},
		{name: "etc/empty", typ: tar.TypeReg, mode: 0o644},
		{name: "bin", typ: tar.TypeSymlink, mode: 0o777, link: "usr/bin"},
		{name: "tmp", typ: tar.TypeDir, mode: 0o1777},
		{name: "home", typ: tar.TypeDir, mode: 0o755},
		{name: "home/app", typ: tar.TypeDir, mode: 0o700, uid: 1000, gid: 1001},
		{name: "home/app/.profile", typ: tar.TypeReg, mode: 0o600, uid: 1000, gid: 1001, content: "x=1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := hdrs[tc.name]
			require.NotNil(t, hdr, "missing from the layer")
			require.Equal(t, tc.typ, hdr.Typeflag)
			require.Equal(t, tc.mode, hdr.Mode, "mode %o", hdr.Mode)
			require.Equal(t, []int{tc.uid, tc.gid}, []int{hdr.Uid, hdr.Gid})
			require.Equal(t, tc.content, contents[tc.name])
			require.Equal(t, tc.link, hdr.Linkname)
			require.True(t, hdr.ModTime.Equal(epoch), "mtime %v", hdr.ModTime)
			require.Empty(t, hdr.Uname+hdr.Gname, "owner names")
		})
	}
	require.Len(t, hdrs, 12, "entries: %v", order)
}

func TestWriteDockerArchiveLeavesNothingOnError(t *testing.T) {
	dir := t.TempDir()
	im := Image{Name: "x:1", Files: []File{{Path: "/missing", Src: filepath.Join(dir, "no-such-file")}}}
	_, err := im.WriteDockerArchive(filepath.Join(dir, "out.tar"))
	require.ErrorContains(t, err, "no-such-file")
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, left, "temporary files left behind")
}

func TestEntriesRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		files []File
		want  string
	}{
		"relative path":     {[]File{{Path: "etc/x", Data: []byte{}}}, "absolute, clean"},
		"unclean path":      {[]File{{Path: "/etc/../x", Data: []byte{}}}, "absolute, clean"},
		"the root":          {[]File{{Path: "/", Dir: true}}, "absolute, clean"},
		"listed twice":      {[]File{{Path: "/x", Dir: true}, {Path: "/x", Data: []byte{}}}, "listed twice"},
		"two kinds":         {[]File{{Path: "/x", Data: []byte("a"), Link: "b"}}, "only one of"},
		"under a symlink":   {[]File{{Path: "/bin", Link: "usr/bin"}, {Path: "/bin/sh", Link: "busybox"}}, "parent /bin is not a directory"},
		"under a file":      {[]File{{Path: "/etc", Data: []byte{}}, {Path: "/etc/passwd", Data: []byte{}}}, "parent /etc is not a directory"},
		"file type in mode": {[]File{{Path: "/x", Mode: fs.ModeDir | 0o755, Data: []byte{}}}, "only permission"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Image{Name: "x:1", Files: tc.files}.entries()
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestCachedArchive(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "cache")
	im := sampleImage(t)
	archive, err := im.CachedArchive(cache)
	require.NoError(t, err)
	// Named by the manifest, which names the config and the tag.
	_, manifest, err := im.metadata()
	require.NoError(t, err)
	require.Equal(t, filepath.Join(cache, strings.TrimPrefix(digestOf(manifest), "sha256:")+".tar"), archive)
	require.Equal(t, im.Name, openArchive(t, archive).manifest[0].RepoTags[0])

	// A hit returns the file as it is: mark it and see the mark survive.
	require.NoError(t, os.WriteFile(archive, []byte("marked"), 0o644))
	again, err := im.CachedArchive(cache)
	require.NoError(t, err)
	require.Equal(t, archive, again)
	b, err := os.ReadFile(archive)
	require.NoError(t, err)
	require.Equal(t, "marked", string(b), "cached archive was rewritten")

	// Any input changed is another archive: content, metadata, mode.
	for name, change := range map[string]func(*Image){
		"content": func(im *Image) { im.Files[1].Data = []byte("changed\n") },
		"cmd":     func(im *Image) { im.Cmd = []string{"other"} },
		"label":   func(im *Image) { im.Labels = map[string]string{"a": "1"} },
		"mode":    func(im *Image) { im.Files[1].Mode = 0o600 },
		"owner":   func(im *Image) { im.Files[1].Uid = 5 },
		"name":    func(im *Image) { im.Name = "example.test/sample:2" },
	} {
		t.Run(name, func(t *testing.T) {
			changed := im
			changed.Files = slices.Clone(im.Files)
			change(&changed)
			other, err := changed.CachedArchive(cache)
			require.NoError(t, err)
			require.NotEqual(t, archive, other)
		})
	}
}

func TestParseLdd(t *testing.T) {
	for name, tc := range map[string]struct {
		out     string
		want    []string
		wantErr string
	}{
		"debian redis-cli": {
			out: "\tlinux-vdso.so.1 (0x00007ffd1b9f2000)\n" +
				"\tlibssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x00007f8926487000)\n" +
				"\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f89262a5000)\n" +
				"\t/lib64/ld-linux-x86-64.so.2 (0x00007f8926aa6000)\n",
			want: []string{"/lib/x86_64-linux-gnu/libssl.so.3", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"},
		},
		"missing library": {
			out:     "\tlibfoo.so.1 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f89262a5000)\n",
			wantErr: "libfoo.so.1 => not found",
		},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := parseLdd([]byte(tc.out))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
