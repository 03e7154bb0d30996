package modules

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

// Fetch is Ansible's fetch module: copy a file from the host to the
// controller.
type Fetch struct{}

var _ module.Module = (*Fetch)(nil)

var fetchSpec = &module.Spec{
	Name:  "fetch",
	Short: "Fetch files from remote nodes",
	Description: `Copies a file from the host to the controller, into dest/HOSTNAME/PATH (or dest itself
with flat: true). The host's SHA-1 is compared with the controller copy in one round trip;
the file is transferred only when they differ and verified afterwards.`,
	Args: []module.Arg{
		{Name: "src", Type: module.String, Required: true, Doc: "The file on the host (not a directory)."},
		{Name: "dest", Type: module.String, Required: true, Doc: "Controller directory (or, with flat and no trailing slash, file name)."},
		{Name: "flat", Type: module.Bool, Default: false, Doc: "Put the file at dest (dest/BASENAME when dest ends with /) instead of dest/HOSTNAME/PATH."},
		{Name: "fail_on_missing", Type: module.Bool, Default: true, Doc: "Fail when src does not exist (false: report and skip)."},
		{Name: "validate_checksum", Type: module.Bool, Default: true, Doc: "Verify the fetched file's SHA-1 against the host's."},
	},
	Check: module.CheckFull,
	Diff:  false,
	Examples: `- fetch:
    src: /etc/app.conf
    dest: backups/        # backups/HOST/etc/app.conf

- fetch:
    src: /tmp/report.txt
    dest: reports/{{ inventory_hostname }}.txt
    flat: true`,
}

// Spec implements module.Module.
func (*Fetch) Spec() *module.Spec { return fetchSpec }

// Plan implements module.Module.
func (*Fetch) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	src, dest := args.String("src"), args.String("dest")
	st, err := inspectRemote(ctx, h, src, statOptions{Follow: true, Checksum: true})
	if err != nil {
		return nil, err
	}
	var local string
	if args.Bool("flat") {
		local = dest
		if strings.HasSuffix(dest, "/") {
			local = filepath.Join(dest, filepath.Base(st.Path))
		}
	} else {
		local = filepath.Join(dest, h.Name, filepath.FromSlash(st.Path))
	}
	result := module.Result{"dest": local, "file": src}
	missing := func(msg string) (*module.Plan, error) {
		if args.Bool("fail_on_missing") {
			return module.Unchanged(module.Failed("%s", msg)), nil
		}
		result["msg"] = msg
		result["skipped"] = true
		return module.Unchanged(result), nil
	}
	switch {
	case !st.Exists:
		return missing("the remote file does not exist, not transferring, ignored")
	case st.IsDir():
		return missing("remote file is a directory, fetch cannot work on directories")
	case st.SHA1 == "":
		return missing("file is not readable, not transferring")
	}
	result["checksum"] = st.SHA1
	result["remote_checksum"] = st.SHA1
	if data, err := os.ReadFile(local); err == nil && sha1Hex(data) == st.SHA1 {
		return module.Unchanged(result), nil
	}
	return &module.Plan{Changed: true, Result: result, Apply: func(ctx context.Context) (module.Result, error) {
		data, err := readRemote(ctx, h, st.Path)
		if err != nil {
			return nil, err
		}
		if args.Bool("validate_checksum") && sha1Hex(data) != st.SHA1 {
			return module.Failed("checksum mismatch fetching %s: the file changed during transfer", src), nil
		}
		if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			return nil, fmt.Errorf("fetch %s: %w", src, err)
		}
		// The controller's copy goes through the same checked, atomic
		// write as a host's file.
		if err := (connection.Local{}).Put(ctx, bytes.NewReader(data), local, connection.PutOptions{Mode: 0o644}); err != nil {
			return nil, fmt.Errorf("fetch %s: %w", src, err)
		}
		r := module.Result{}
		for k, v := range result {
			r[k] = v
		}
		r["md5sum"] = nil
		return r, nil
	}}, nil
}
