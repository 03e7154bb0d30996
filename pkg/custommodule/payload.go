package custommodule

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// buildZip packs a new-style module (Python name fqn) with the files it
// needs, as AnsiballZ's payload: the module at its package path and the
// __init__.py of each package above it that deps lack.
func buildZip(fqn string, src []byte, deps []payloadFile) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	have := map[string]bool{}
	// A fixed time: the same module gives the same archive.
	when := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	write := func(name string, data []byte) error {
		have[name] = true
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: when})
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	for _, f := range deps {
		if err := write(f.path, f.data); err != nil {
			return nil, err
		}
	}
	parts := strings.Split(fqn, ".")
	if err := write(strings.Join(parts, "/")+".py", src); err != nil {
		return nil, err
	}
	start := 1
	if parts[0] == "ansible" {
		start = 2
	}
	for i := start; i < len(parts); i++ {
		p := strings.Join(parts[:i], "/") + "/__init__.py"
		if !have[p] {
			if err := write(p, nil); err != nil {
				return nil, err
			}
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("pack module: %w", err)
	}
	return buf.Bytes(), nil
}

// wrapperTemplate is the self-extracting script a new-style module runs
// as, after AnsiballZ's: it writes the archive to a temporary directory,
// puts it first on sys.path, hands the arguments to basic and runs the
// module as __main__. %[1]s is the shebang, %[2]s the module's name (for
// the temporary directory), %[3]s its Python name (a quoted literal), %[4]s the archive and
// %[5]s the JSON arguments, both base64.
const wrapperTemplate = `%[1]s
# -*- coding: utf-8 -*-
_ANSIBALLZ_WRAPPER = True
def _ansiballz_main():
    import os
    import os.path
    try:
        os.getcwd()
    except OSError:
        try:
            os.chdir(os.path.expanduser('~'))
        except OSError:
            os.chdir('/')
    import sys
    import __main__
    scriptdir = None
    try:
        scriptdir = os.path.dirname(os.path.realpath(__main__.__file__))
    except (AttributeError, OSError):
        pass
    excludes = set(('', '.', scriptdir))
    sys.path = [p for p in sys.path if p not in excludes]
    import base64
    import runpy
    import shutil
    import tempfile
    ZIPDATA = base64.b64decode("%[4]s")
    ANSIBALLZ_PARAMS = base64.b64decode("%[5]s")
    temp_path = tempfile.mkdtemp(prefix='ansible_%[2]s_payload_')
    try:
        zipped_mod = os.path.join(temp_path, 'ansible_%[2]s_payload.zip')
        with open(zipped_mod, 'wb') as modlib:
            modlib.write(ZIPDATA)
        sys.path.insert(0, zipped_mod)
        from ansible.module_utils import basic
        basic._ANSIBLE_ARGS = ANSIBALLZ_PARAMS
        runpy.run_module(mod_name=%[3]s, init_globals=dict(_module_fqn=%[3]s, _modlib_path=zipped_mod),
                         run_name='__main__', alter_sys=True)
        print('{"msg": "New-style module did not handle its own exit", "failed": true}')
        sys.exit(1)
    finally:
        try:
            shutil.rmtree(temp_path)
        except (NameError, OSError):
            pass

if __name__ == '__main__':
    _ansiballz_main()
`

// ansiballz returns the script that runs a new-style module.
func ansiballz(shebang, name, fqn string, zipData, jsonParams []byte) []byte {
	return fmt.Appendf(nil, wrapperTemplate, shebang, pyIdentChars(name), strconv.Quote(fqn),
		base64.StdEncoding.EncodeToString(zipData), base64.StdEncoding.EncodeToString(jsonParams))
}

// pyIdentChars keeps the characters of s that may appear in the wrapper's
// quoted file name prefix.
func pyIdentChars(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
