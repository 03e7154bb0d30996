// Package atomicfile replaces files on the controller whole: reports,
// vault-encrypted files. Readers see the old file or the new one, never a
// part, and a crash leaves no half-written file in its place.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with data, with the given permission bits, through a
// temporary file in the same directory that is renamed over it. The mode is
// set before anything is written, so content meant for 0600 is never
// readable by others, even for a moment.
func Write(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tend-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after a successful rename
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
