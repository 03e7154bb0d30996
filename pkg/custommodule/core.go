package custommodule

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// FindCoreModuleUtils returns the module_utils directory of the
// ansible-core installed on the controller, which new-style Python
// modules import from: that of the active virtual environment
// ($VIRTUAL_ENV), then the usual places of a Debian package, pip and
// pip --user installation, then what `python3 -c 'import ansible'` finds.
// Python is asked only when a module needs it, so tend itself never
// needs Python.
func FindCoreModuleUtils(ctx context.Context) (string, error) {
	var pats []string
	if ve := os.Getenv("VIRTUAL_ENV"); ve != "" {
		pats = append(pats, filepath.Join(ve, "lib", "python3*", "site-packages"))
	}
	pats = append(pats, "/usr/lib/python3/dist-packages", "/usr/local/lib/python3*/dist-packages",
		"/usr/local/lib/python3*/site-packages", "/usr/lib/python3*/site-packages", "/usr/lib64/python3*/site-packages")
	if home, err := os.UserHomeDir(); err == nil {
		pats = append(pats, filepath.Join(home, ".local", "lib", "python3*", "site-packages"))
	}
	for _, pat := range pats {
		ms, _ := filepath.Glob(filepath.Join(pat, "ansible", "module_utils"))
		for _, m := range ms {
			if isCoreModuleUtils(m) {
				return m, nil
			}
		}
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		return "", errors.New("no ansible-core was found (looked in the Python package directories, and there is no python3 to ask)")
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, py, "-c", "import os, ansible.module_utils.basic as b; print(os.path.dirname(b.__file__))").Output()
	if err != nil {
		return "", errors.New("no ansible-core was found (looked in the Python package directories, and python3 cannot import ansible.module_utils.basic)")
	}
	dir := strings.TrimSpace(string(out))
	if !isCoreModuleUtils(dir) {
		return "", errors.New("no ansible-core was found (python3 names " + dir + ", which holds no basic.py)")
	}
	return dir, nil
}

func isCoreModuleUtils(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "basic.py"))
	return err == nil && st.Mode().IsRegular()
}
