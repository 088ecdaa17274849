// Package image assembles container images from files on this machine and
// writes them as docker-archive tarballs that `ctr images import` loads,
// so a real kubelet and containerd run the product and Redis without a
// registry or a Docker engine.
//
// An image is one uncompressed layer, written deterministically (sorted
// entries, fixed times, numeric owners): the same inputs give the same
// digest, which names the cached archive.
package image

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// File is one entry of an image's layer. At most one of Src, Data, Link
// and Dir says what it is; with none it is an empty regular file.
type File struct {
	Path     string      // absolute path in the image
	Mode     fs.FileMode // permission bits plus fs.ModeSticky/ModeSetuid/ModeSetgid; 0: Src's mode, 0644 or 0755
	Uid, Gid int
	Src      string // host file whose content is copied (symlinks followed)
	Data     []byte // literal content
	Link     string // symlink target
	Dir      bool
}

// Image is what the archive's config and layer hold.
type Image struct {
	Name         string // "ghcr.io/redis-autoscaler/redis-autoscaler:0.1.0", "redis:7.0"
	Files        []File
	User         string
	Entrypoint   []string
	Cmd          []string
	Env          []string
	WorkingDir   string
	ExposedPorts []string // "9121/tcp"
	Labels       map[string]string
}

// entry is a File with its path relative to the layer's root and its kind
// settled, ready for the tar writer.
type entry struct {
	File
	name string // "usr/bin/redis-cli", no leading slash
	kind entryKind
}

type entryKind int

const (
	kindFile entryKind = iota
	kindDir
	kindLink
)

// entries checks the image's files and returns them with the parent
// directories nobody listed (0755, root), sorted by path so parents come
// first and the layer is the same for the same files in any order.
func (im Image) entries() ([]entry, error) {
	byName := map[string]entry{}
	for _, f := range im.Files {
		e, err := newEntry(f)
		if err != nil {
			return nil, err
		}
		if _, dup := byName[e.name]; dup {
			return nil, fmt.Errorf("%s listed twice", f.Path)
		}
		byName[e.name] = e
	}
	for _, e := range byName {
		for dir := path.Dir(e.name); dir != "."; dir = path.Dir(dir) {
			parent, listed := byName[dir]
			if !listed {
				byName[dir] = entry{File: File{Path: "/" + dir, Mode: 0o755, Dir: true}, name: dir, kind: kindDir}
				continue
			}
			// A file under a listed symlink would make the layer write
			// through the link (e.g. /bin/sh with /bin -> usr/bin):
			// callers list the resolved path instead.
			if parent.kind != kindDir {
				return nil, fmt.Errorf("%s: parent /%s is not a directory", e.Path, dir)
			}
		}
	}
	out := make([]entry, 0, len(byName))
	for _, e := range byName {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

func newEntry(f File) (entry, error) {
	clean := path.Clean(f.Path)
	if !path.IsAbs(f.Path) || clean != f.Path || clean == "/" {
		return entry{}, fmt.Errorf("file path %q: want an absolute, clean path below /", f.Path)
	}
	kinds := 0
	kind := kindFile
	if f.Src != "" {
		kinds++
	}
	if f.Data != nil {
		kinds++
	}
	if f.Link != "" {
		kinds++
		kind = kindLink
	}
	if f.Dir {
		kinds++
		kind = kindDir
	}
	if kinds > 1 {
		return entry{}, fmt.Errorf("%s: set only one of Src, Data, Link and Dir", f.Path)
	}
	if f.Mode&^(fs.ModePerm|fs.ModeSticky|fs.ModeSetuid|fs.ModeSetgid) != 0 {
		return entry{}, fmt.Errorf("%s: mode %v: only permission, sticky, setuid and setgid bits", f.Path, f.Mode)
	}
	return entry{File: f, name: strings.TrimPrefix(clean, "/"), kind: kind}, nil
}
