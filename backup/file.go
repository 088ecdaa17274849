package backup

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Files are written the way a crash cannot fake: into a temporary file in
// the destination's directory (named so it never looks like a backup),
// fsynced, renamed over the destination, and the directory fsynced.

// tempPrefix is the temporary name's prefix for dest.
func tempPrefix(dest string) string { return "." + filepath.Base(dest) + ".tmp-" }

// createTemp creates the temporary file for dest, locked (flock) for as
// long as this process has it open, and first removes the ones a killed
// run left behind: those nobody holds a lock on. A backup running beside
// this one into the same destination keeps its file.
func createTemp(dest string) (*os.File, error) {
	dir := filepath.Dir(dest)
	old, _ := filepath.Glob(filepath.Join(dir, tempPrefix(dest)+"*"))
	for _, o := range old {
		if f, err := os.Open(o); err == nil {
			if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
				_ = os.Remove(o)
			}
			f.Close()
		}
	}
	f, err := os.CreateTemp(dir, tempPrefix(dest)+"*")
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// commit fsyncs and closes f, renames it to dest and fsyncs the directory.
func commit(f *os.File, dest string) error {
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), dest); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(dest))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// writeFileAtomic writes b to dest through a temporary file.
func writeFileAtomic(dest string, b []byte) error {
	f, err := createTemp(dest)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := commit(f, dest); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
