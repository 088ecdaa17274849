package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// epoch is every entry's and the config's time: a fixed one keeps the
// digest a function of the content alone.
var epoch = time.Unix(0, 0).UTC()

// manifestEntry is one image of a docker-archive's manifest.json.
type manifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// imageConfig is the docker/OCI image config (the fields containerd and
// the kubelet read).
type imageConfig struct {
	Architecture string          `json:"architecture"`
	OS           string          `json:"os"`
	Created      time.Time       `json:"created"`
	Config       containerConfig `json:"config"`
	RootFS       rootFS          `json:"rootfs"`
	History      []history       `json:"history"`
}

type containerConfig struct {
	User         string              `json:"User,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Labels       map[string]string   `json:"Labels,omitempty"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

type history struct {
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
}

// Digest is the image ID ("sha256:..." of the config) the archive would
// have, computed by streaming the layer through the hash without writing
// it.
func (im Image) Digest() (string, error) {
	config, _, err := im.metadata()
	if err != nil {
		return "", err
	}
	return digestOf(config), nil
}

// CachedArchive returns cacheDir/<hex>.tar, the hex of the archive's
// manifest.json, writing it only when it is missing. The manifest names
// the config (so every file, mode and setting) and the tag, which the
// image ID leaves out: a file of that name is this image under this name.
func (im Image) CachedArchive(cacheDir string) (string, error) {
	_, manifest, err := im.metadata()
	if err != nil {
		return "", err
	}
	key := digestOf(manifest)
	archive := filepath.Join(cacheDir, strings.TrimPrefix(key, "sha256:")+".tar")
	if _, err := os.Stat(archive); err == nil {
		return archive, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	_, written, err := im.writeArchive(archive)
	if err != nil {
		return "", err
	}
	if got := digestOf(written); got != key {
		// An input changed between the two reads (a binary rebuilt
		// meanwhile): the file holds another image than its name says.
		os.Remove(archive)
		return "", fmt.Errorf("image %s: inputs changed while writing the archive", im.Name)
	}
	return archive, nil
}

// metadata is the config and manifest.json of the archive, the layer
// hashed but not kept.
func (im Image) metadata() (config, manifest []byte, err error) {
	h := sha256.New()
	if err := im.writeLayer(h); err != nil {
		return nil, nil, fmt.Errorf("image %s: %w", im.Name, err)
	}
	return im.describe(hex.EncodeToString(h.Sum(nil)))
}

// describe is the config and manifest.json for a layer of that hex
// digest.
func (im Image) describe(layerHex string) (config, manifest []byte, err error) {
	if im.Name == "" {
		return nil, nil, errors.New("image has no name")
	}
	if config, err = im.config("sha256:" + layerHex); err != nil {
		return nil, nil, err
	}
	manifest, err = json.Marshal([]manifestEntry{{
		Config:   strings.TrimPrefix(digestOf(config), "sha256:") + ".json",
		RepoTags: []string{im.Name},
		Layers:   []string{layerHex + "/layer.tar"},
	}})
	return config, manifest, err
}

// WriteDockerArchive writes the image as a docker-archive tarball
// (manifest.json, <config hex>.json, <layer hex>/layer.tar) and returns
// its ID, the config's digest. The file appears complete or not at all.
func (im Image) WriteDockerArchive(path string) (digest string, err error) {
	config, _, err := im.writeArchive(path)
	if err != nil {
		return "", err
	}
	return digestOf(config), nil
}

func (im Image) writeArchive(path string) (config, manifest []byte, err error) {
	dir := filepath.Dir(path)
	layer, err := os.CreateTemp(dir, ".layer-*")
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		layer.Close()
		os.Remove(layer.Name())
	}()
	h := sha256.New()
	if err := im.writeLayer(io.MultiWriter(layer, h)); err != nil {
		return nil, nil, fmt.Errorf("image %s: %w", im.Name, err)
	}
	layerHex := hex.EncodeToString(h.Sum(nil))
	size, err := layer.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, nil, err
	}
	if _, err := layer.Seek(0, io.SeekStart); err != nil {
		return nil, nil, err
	}
	if config, manifest, err = im.describe(layerHex); err != nil {
		return nil, nil, err
	}
	configName := strings.TrimPrefix(digestOf(config), "sha256:") + ".json"
	layerName := layerHex + "/layer.tar"

	out, err := os.CreateTemp(dir, ".archive-*")
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(out.Name())
		}
	}()
	tw := tar.NewWriter(out)
	for _, f := range []struct {
		name string
		size int64
		body io.Reader
	}{
		{layerHex + "/", -1, nil},
		{layerName, size, layer},
		{configName, int64(len(config)), bytes.NewReader(config)},
		{"manifest.json", int64(len(manifest)), bytes.NewReader(manifest)},
	} {
		hdr := &tar.Header{Name: f.name, Mode: 0o644, Size: f.size, ModTime: epoch, Typeflag: tar.TypeReg}
		if f.body == nil {
			hdr = &tar.Header{Name: f.name, Mode: 0o755, ModTime: epoch, Typeflag: tar.TypeDir}
		}
		if err = tw.WriteHeader(hdr); err != nil {
			return nil, nil, err
		}
		if f.body != nil {
			if _, err = io.CopyN(tw, f.body, f.size); err != nil {
				return nil, nil, err
			}
		}
	}
	if err = tw.Close(); err != nil {
		return nil, nil, err
	}
	if err = out.Sync(); err != nil {
		return nil, nil, err
	}
	if err = out.Close(); err != nil {
		return nil, nil, err
	}
	if err = os.Chmod(out.Name(), 0o644); err != nil {
		return nil, nil, err
	}
	if err = os.Rename(out.Name(), path); err != nil {
		return nil, nil, err
	}
	return config, manifest, nil
}

// config is the image config JSON for a layer of the given diff ID.
// encoding/json sorts map keys, so equal images give equal bytes.
func (im Image) config(diffID string) ([]byte, error) {
	var ports map[string]struct{}
	for _, p := range im.ExposedPorts {
		if !strings.Contains(p, "/") {
			return nil, fmt.Errorf("exposed port %q: want port/protocol, e.g. 9121/tcp", p)
		}
		if ports == nil {
			ports = map[string]struct{}{}
		}
		ports[p] = struct{}{}
	}
	return json.Marshal(imageConfig{
		// The host's: the files come from this machine and run on its
		// kubelet.
		Architecture: runtime.GOARCH,
		OS:           "linux",
		Created:      epoch,
		Config: containerConfig{
			User:         im.User,
			Env:          im.Env,
			Entrypoint:   im.Entrypoint,
			Cmd:          im.Cmd,
			WorkingDir:   im.WorkingDir,
			ExposedPorts: ports,
			Labels:       im.Labels,
		},
		RootFS:  rootFS{Type: "layers", DiffIDs: []string{diffID}},
		History: []history{{Created: epoch, CreatedBy: "github.com/redis-autoscaler/redis-autoscaler/test/image"}},
	})
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// writeLayer writes the layer tar: every entry with numeric owners, no
// user names (the image's /etc/passwd may differ from the host's) and
// the fixed time.
func (im Image) writeLayer(w io.Writer) error {
	entries, err := im.entries()
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	for _, e := range entries {
		if err := writeEntry(tw, e); err != nil {
			return fmt.Errorf("%s: %w", e.Path, err)
		}
	}
	return tw.Close()
}

func writeEntry(tw *tar.Writer, e entry) error {
	hdr := &tar.Header{Name: e.name, Uid: e.Uid, Gid: e.Gid, ModTime: epoch, Format: tar.FormatPAX}
	perm := e.Mode
	var body io.Reader
	switch e.kind {
	case kindDir:
		hdr.Typeflag, hdr.Name = tar.TypeDir, e.name+"/"
		if perm == 0 {
			perm = 0o755
		}
	case kindLink:
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.Link
		perm = 0o777
	case kindFile:
		hdr.Typeflag = tar.TypeReg
		switch {
		case e.Src != "":
			f, err := os.Open(e.Src)
			if err != nil {
				return err
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil {
				return err
			}
			if !fi.Mode().IsRegular() {
				return fmt.Errorf("source %s is not a regular file", e.Src)
			}
			if perm == 0 {
				perm = fi.Mode().Perm()
			}
			hdr.Size, body = fi.Size(), f
		default:
			if perm == 0 {
				perm = 0o644
			}
			hdr.Size, body = int64(len(e.Data)), bytes.NewReader(e.Data)
		}
	}
	hdr.Mode = tarMode(perm)
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if body != nil {
		// CopyN: a source that grew since the Stat would otherwise
		// overrun the header's size.
		if _, err := io.CopyN(tw, body, hdr.Size); err != nil {
			return err
		}
	}
	return nil
}

// tarMode is fs.FileMode's permission and special bits in the Unix
// encoding tar headers use.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	for bit, unix := range map[fs.FileMode]int64{fs.ModeSetuid: 0o4000, fs.ModeSetgid: 0o2000, fs.ModeSticky: 0o1000} {
		if m&bit != 0 {
			mode |= unix
		}
	}
	return mode
}
