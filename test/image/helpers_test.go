package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// readArchive is a docker-archive taken apart: the outer entries in
// order, the manifest, the config and the layer's raw tar.
type readArchive struct {
	names    []string
	manifest []manifestEntry
	config   imageConfig
	layer    []byte
}

func openArchive(t *testing.T, path string) readArchive {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	blobs := map[string][]byte{}
	var a readArchive
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		a.names = append(a.names, hdr.Name)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		blobs[hdr.Name] = b
	}
	require.NoError(t, json.Unmarshal(blobs["manifest.json"], &a.manifest), "manifest.json")
	require.Len(t, a.manifest, 1)
	require.NoError(t, json.Unmarshal(blobs[a.manifest[0].Config], &a.config), "config")
	require.Len(t, a.manifest[0].Layers, 1)
	a.layer = blobs[a.manifest[0].Layers[0]]
	require.NotEmpty(t, a.layer, "layer")
	return a
}

// layerEntries lists the layer's headers and regular files' contents.
func layerEntries(t *testing.T, layer []byte) (hdrs map[string]*tar.Header, contents map[string]string, order []string) {
	t.Helper()
	hdrs, contents = map[string]*tar.Header{}, map[string]string{}
	tr := tar.NewReader(bytes.NewReader(layer))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return hdrs, contents, order
		}
		require.NoError(t, err)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		name := strings.TrimSuffix(hdr.Name, "/")
		hdrs[name], contents[name] = hdr, string(b)
		order = append(order, name)
	}
}

// extractLayer unpacks a layer into dir as a container runtime would:
// owners, modes and symlinks as recorded (the caller is root).
func extractLayer(t *testing.T, layer []byte, dir string) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(layer))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		require.NoError(t, err)
		target := filepath.Join(dir, hdr.Name)
		require.True(t, strings.HasPrefix(target, dir+string(filepath.Separator)), "entry %s escapes the root", hdr.Name)
		mode := os.FileMode(hdr.Mode).Perm()
		switch hdr.Typeflag {
		case tar.TypeDir:
			require.NoError(t, os.MkdirAll(target, 0o755))
		case tar.TypeSymlink:
			require.NoError(t, os.Symlink(hdr.Linkname, target))
			require.NoError(t, os.Lchown(target, hdr.Uid, hdr.Gid))
			continue
		case tar.TypeReg:
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
			require.NoError(t, err)
			_, err = io.Copy(f, tr)
			require.NoError(t, err)
			require.NoError(t, f.Close())
		default:
			t.Fatalf("%s: unexpected tar type %c", hdr.Name, hdr.Typeflag)
		}
		require.NoError(t, os.Chown(target, hdr.Uid, hdr.Gid))
		// Chmod after chown: chown clears setuid/setgid, and umask
		// narrowed the create.
		if hdr.Mode&0o1000 != 0 {
			mode |= os.ModeSticky
		}
		require.NoError(t, os.Chmod(target, mode))
	}
}
