package standin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/tend-dev/tend/integration/posit/standin/deb"
)

// Versions are the product versions written into the packages.
type Versions struct {
	Workbench      string // e.g. 2024.12.1+563.pro5
	Connect        string // e.g. 2024.12.0
	PackageManager string // e.g. 2024.11.0-7
}

// DefaultVersions returns versions shaped like current releases.
func DefaultVersions() Versions {
	return Versions{Workbench: "2024.12.1+563.pro5", Connect: "2024.12.0", PackageManager: "2024.11.0-7"}
}

// Artifact is one built package file.
type Artifact struct {
	Product string // Workbench, Connect or PackageManager
	Package string // dpkg package name
	Version string // dpkg version, as the role's *_version variable
	Name    string // file name, as Posit names it
	Path    string // where it was written
	SHA256  string // hex
}

// BuildBinary compiles the multi-call stand-in for linux/amd64 without
// cgo (it runs on Debian test hosts) into dir and returns its path.
// moduleRoot is the directory holding the tend module's go.mod.
func BuildBinary(ctx context.Context, moduleRoot, dir string) (string, error) {
	out := filepath.Join(dir, "posit-standin")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./integration/posit/standin/cmd/posit-standin")
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build posit-standin: %w\n%s", err, b)
	}
	return out, nil
}

// BuildPackages writes the three .deb files into dir, each holding
// binary under the product's program names, and returns them by product
// (Workbench, Connect, PackageManager).
func BuildPackages(binary, dir string, v Versions) (map[string]Artifact, error) {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return nil, fmt.Errorf("read stand-in binary: %w", err)
	}
	pkgs := []struct {
		product, name string
		p             *deb.Package
	}{
		{Workbench, "rstudio-workbench-" + strings.ReplaceAll(v.Workbench, "+", "-") + "-amd64.deb", workbenchPackage(bin, v.Workbench)},
		{Connect, "rstudio-connect_" + v.Connect + "~ubuntu22_amd64.deb", connectPackage(bin, v.Connect)},
		{PackageManager, "rstudio-pm_" + v.PackageManager + "_amd64.deb", ppmPackage(bin, v.PackageManager)},
	}
	out := map[string]Artifact{}
	for _, x := range pkgs {
		data, err := x.p.Build()
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, x.name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", x.name, err)
		}
		sum := sha256.Sum256(data)
		out[x.product] = Artifact{Product: x.product, Package: x.p.Name, Version: x.p.Version, Name: x.name, Path: path, SHA256: hex.EncodeToString(sum[:])}
	}
	return out, nil
}

func unit(desc, exec, extra string) []byte {
	return []byte(fmt.Sprintf(`[Unit]
Description=%s (tend stand-in)
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
NotifyAccess=main
ExecStart=%s
Restart=on-failure
RestartSec=5
TimeoutStartSec=90
%s
[Install]
WantedBy=multi-user.target
`, desc, exec, extra))
}

// userScript creates a system user (and its group) unless it exists:
// roles may create them first with fixed UIDs/GIDs.
func userScript(user, group, home string) string {
	return fmt.Sprintf(`	if ! getent group %[2]s >/dev/null; then groupadd --system %[2]s; fi
	if ! getent passwd %[1]s >/dev/null; then
		useradd --system --gid %[2]s --home-dir %[3]s --no-create-home --shell /usr/sbin/nologin %[1]s
	fi
`, user, group, home)
}

func postinst(users, firstInstall string, units ...string) string {
	return fmt.Sprintf(`#!/bin/sh
set -e
if [ "$1" = configure ]; then
%s	if [ -z "$2" ]; then
		:
%s	fi
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload || true
		systemctl enable %[3]s >/dev/null 2>&1 || true
		systemctl restart %[3]s || echo "service did not start: fix the configuration, then systemctl restart %[3]s" >&2
	fi
fi
exit 0
`, users, firstInstall, strings.Join(units, " "))
}

func prerm(units ...string) string {
	return fmt.Sprintf(`#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	systemctl stop %[1]s || true
	systemctl disable %[1]s >/dev/null 2>&1 || true
fi
exit 0
`, strings.Join(units, " "))
}

const postrm = `#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
exit 0
`

func workbenchPackage(bin []byte, version string) *deb.Package {
	return &deb.Package{
		Name: "rstudio-server", Version: version,
		Description: "Posit Workbench (tend stand-in)\nStand-in for integration tests: real paths, config formats and ports.",
		Scripts: map[string]string{
			"postinst": postinst(userScript("rstudio-server", "rstudio-server", "/var/lib/rstudio-server"),
				"\t\tmkdir -p /var/log/rstudio/rstudio-server\n", "rstudio-launcher.service", "rstudio-server.service"),
			"prerm":  prerm("rstudio-server.service", "rstudio-launcher.service"),
			"postrm": postrm,
		},
		Files: []deb.File{
			{Path: "/usr/lib/rstudio-server/bin/rserver", Data: bin, Mode: 0o755},
			{Path: "/usr/lib/rstudio-server/bin/rstudio-launcher", Link: "rserver"},
			{Path: "/usr/lib/rstudio-server/bin/license-manager", Link: "rserver"},
			{Path: "/usr/lib/rstudio-server/bin/rstudio-server", Link: "rserver"},
			{Path: "/usr/sbin/rstudio-server", Link: "/usr/lib/rstudio-server/bin/rstudio-server"},
			{Path: "/usr/lib/rstudio-server/VERSION", Data: []byte(version + "\n")},
			{Path: "/lib/systemd/system/rstudio-server.service", Data: unit("RStudio Server", "/usr/lib/rstudio-server/bin/rserver", "ExecReload=/bin/kill -HUP $MAINPID\n")},
			{Path: "/lib/systemd/system/rstudio-launcher.service", Data: unit("RStudio Launcher", "/usr/lib/rstudio-server/bin/rstudio-launcher", "")},
			{Path: "/etc/rstudio/rserver.conf", Data: []byte("# Server Configuration File\n\n"), Conffile: true},
			{Path: "/etc/rstudio/rsession.conf", Data: []byte("# R Session Configuration File\n\n"), Conffile: true},
			{Path: "/etc/rstudio/launcher.conf", Data: []byte("[server]\naddress=127.0.0.1\nport=5559\nserver-user=rstudio-server\nadmin-group=rstudio-server\nauthorization-enabled=1\nthread-pool-size=4\nenable-debug-logging=0\n\n[cluster]\nname=Local\ntype=Local\n"), Conffile: true},
			{Path: "/var/lib/rstudio-server", Dir: true},
		},
	}
}

func connectPackage(bin []byte, version string) *deb.Package {
	return &deb.Package{
		Name: "rstudio-connect", Version: version,
		Description: "Posit Connect (tend stand-in)\nStand-in for integration tests: real paths, config format and port.",
		Scripts: map[string]string{
			"postinst": postinst(userScript("rstudio-connect", "rstudio-connect", "/var/lib/rstudio-connect"), "", "rstudio-connect.service"),
			"prerm":    prerm("rstudio-connect.service"),
			"postrm":   postrm,
		},
		Files: []deb.File{
			{Path: "/opt/rstudio-connect/bin/connect", Data: bin, Mode: 0o755},
			{Path: "/opt/rstudio-connect/bin/license-manager", Link: "connect"},
			{Path: "/opt/rstudio-connect/bin/rscadmin", Link: "connect"},
			{Path: "/opt/rstudio-connect/VERSION", Data: []byte(version + "\n")},
			{Path: "/lib/systemd/system/rstudio-connect.service", Data: unit("RStudio Connect", "/opt/rstudio-connect/bin/connect --config /etc/rstudio-connect/rstudio-connect.gcfg", "")},
			{Path: "/etc/rstudio-connect/rstudio-connect.gcfg", Mode: 0o600, Conffile: true, Data: []byte(`; Posit Connect configuration file

[Server]
; SenderEmail = account@company.com
Address = http://localhost:3939

[HTTP]
; Connect listens on port 3939 by default.
Listen = :3939

[Authentication]
Provider = password

[Database]
Provider = sqlite
`)},
			{Path: "/var/lib/rstudio-connect", Dir: true, Mode: 0o711},
		},
	}
}

func ppmPackage(bin []byte, version string) *deb.Package {
	return &deb.Package{
		Name: "rstudio-pm", Version: version,
		Description: "Posit Package Manager (tend stand-in)\nStand-in for integration tests: real paths, config format, port and URL shapes.",
		Scripts: map[string]string{
			"postinst": postinst(userScript("rstudio-pm", "rstudio-pm", "/var/lib/rstudio-pm"),
				"\t\tchown rstudio-pm:rstudio-pm /etc/rstudio-pm/rstudio-pm.gcfg /var/lib/rstudio-pm\n", "rstudio-pm.service"),
			"prerm":  prerm("rstudio-pm.service"),
			"postrm": postrm,
		},
		Files: []deb.File{
			{Path: "/opt/rstudio-pm/bin/rstudio-pm", Data: bin, Mode: 0o755},
			{Path: "/opt/rstudio-pm/bin/rspm", Link: "rstudio-pm"},
			{Path: "/opt/rstudio-pm/bin/license-manager", Link: "rstudio-pm"},
			{Path: "/opt/rstudio-pm/VERSION", Data: []byte(version + "\n")},
			{Path: "/lib/systemd/system/rstudio-pm.service", Data: unit("RStudio Package Manager", "/opt/rstudio-pm/bin/rstudio-pm --config /etc/rstudio-pm/rstudio-pm.gcfg", "")},
			{Path: "/etc/rstudio-pm/rstudio-pm.gcfg", Mode: 0o640, Conffile: true, Data: []byte(`; Posit Package Manager configuration file

[Server]
; Address = https://packagemanager.company.com
RVersion = /opt/R/4.4.1

[HTTP]
Listen = :4242

[Database]
Provider = sqlite
`)},
			{Path: "/var/lib/rstudio-pm", Dir: true, Mode: 0o755},
		},
	}
}
