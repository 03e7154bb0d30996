package k8s

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/tend-dev/tend/integration/testbed"
)

// positCharts are Posit's three product charts at the versions the
// posit_kubernetes role pins.
var positCharts = map[string]string{"rstudio-pm": "0.20.4", "rstudio-connect": "0.21.0", "rstudio-workbench": "0.22.0"}

// chartRepository packages Posit's charts (with rstudio-library, as
// `helm dependency build` would) and serves them as a chart repository on
// 127.0.0.1, like https://helm.rstudio.com.
func chartRepository(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var index strings.Builder
	index.WriteString("apiVersion: v1\nentries:\n")
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	for name, version := range positCharts {
		chart := chartCopy(t, name)
		tgz := name + "-" + version + ".tgz"
		if out, err := exec.Command("tar", "-C", filepath.Dir(chart), "-czf", filepath.Join(dir, tgz), name).CombinedOutput(); err != nil {
			t.Fatalf("packaging %s: %v\n%s", name, err, out)
		}
		fmt.Fprintf(&index, "  %s:\n  - apiVersion: v2\n    name: %s\n    version: %s\n    urls: [%s/%s]\n", name, name, version, srv.URL, tgz)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.yaml"), []byte(index.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv.URL
}

// positEnv is the repository's Kubernetes example inventory pointed at the
// simulated cluster and a PostgreSQL host on the testbed.
type positEnv struct {
	t                   *testing.T
	c                   *Cluster
	bed                 *testbed.Bed
	tend, root, dir     string
	inventory, varsFile string
	passwords           map[string]string
}

func newPositEnv(t *testing.T) *positEnv {
	t.Helper()
	return newPositEnvWith(t, testbed.HostSpec{Name: "db", Role: "postgresql"})
}

// newPositEnvWith is newPositEnv with the database host's spec.
func newPositEnvWith(t *testing.T, db testbed.HostSpec) *positEnv {
	t.Helper()
	repo := chartRepository(t)
	c := Start(t, 2)
	bed := testbed.Start(t, db)
	_, file, _, _ := runtime.Caller(0)
	e := &positEnv{t: t, c: c, bed: bed, tend: tendBinary(t), root: filepath.Join(filepath.Dir(file), "..", ".."), dir: t.TempDir(),
		passwords: map[string]string{"workbench": "wb-Secret-4711", "connect": "rsc-Secret-4712", "package_manager": "ppm-Secret-4713"}}
	inv := filepath.Join(e.dir, "inventory")
	ini, err := os.ReadFile(bed.InventoryINI)
	if err == nil {
		err = os.MkdirAll(inv, 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(inv, "hosts.ini"), append(ini, "\n[kubernetes]\ncluster ansible_connection=local\n"...), 0o644)
	}
	if err == nil {
		err = os.CopyFS(filepath.Join(inv, "group_vars"), os.DirFS(filepath.Join(e.root, "inventory", "kubernetes", "group_vars")))
	}
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	e.inventory = filepath.Join(inv, "hosts.ini")
	// The controller reaches PostgreSQL from the bed's network, as the
	// pods would from theirs.
	nets := []string{bed.Subnet}
	vars := map[string]any{
		"common_ntp_enabled":          false,
		"postgresql_passwords":        e.passwords,
		"postgresql_client_networks":  map[string]any{"workbench": nets, "connect": nets, "package_manager": nets},
		"posit_kubernetes_kubeconfig": c.Kubeconfig,
		// A chart repository like Posit's, served here.
		"posit_kubernetes_chart_repo_url": repo,
		"posit_kubernetes_nfs_server":     "192.0.2.20",
		"posit_kubernetes_wait_timeout":   "5m0s",
		"posit_tls_ca_dir":                filepath.Join(e.dir, "posit-tls"),
		"workbench_license_key":           "TEND-TEST-WORKBENCH",
		"connect_license_key":             "TEND-TEST-CONNECT",
		"package_manager_license_key":     "TEND-TEST-PPM",
	}
	b, _ := json.Marshal(vars)
	e.varsFile = filepath.Join(e.dir, "vars.json")
	if err := os.WriteFile(e.varsFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// play runs playbooks/kubernetes.yml; it returns the output and exit code.
func (e *positEnv) play(flags ...string) (string, int) {
	e.t.Helper()
	args := append([]string{"play", "-i", e.inventory, "--known-hosts", e.bed.KnownHostsFile, "--ssh-config", "none",
		"-e", "@" + e.varsFile}, flags...)
	args = append(args, filepath.Join(e.root, "playbooks", "kubernetes.yml"))
	return runCommand(e.t, 20*time.Minute, []string{"HOME=" + e.dir, "NO_COLOR=1"}, e.tend, args...)
}

// get reads one object (or list) from the API server.
func (e *positEnv) get(path string) map[string]any {
	e.t.Helper()
	code, b, err := e.c.Do(context.Background(), "GET", path, nil)
	if err != nil || code != http.StatusOK {
		e.t.Fatalf("GET %s: %d %v %s", path, code, err, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// dig walks a decoded JSON object along keys (string keys, int indexes).
func dig(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// configData returns the data of every ConfigMap and Secret (decoded) of
// namespace ns, by "kind/name/key".
func (e *positEnv) configData(ns string) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for _, kind := range []string{"configmaps", "secrets"} {
		list := e.get("/api/v1/namespaces/" + ns + "/" + kind)
		items, _ := list["items"].([]any)
		for _, it := range items {
			name, _ := dig(it, "metadata", "name").(string)
			data, _ := dig(it, "data").(map[string]any)
			for k, v := range data {
				s, _ := v.(string)
				if kind == "secrets" {
					s = decodeB64(e.t, s)
				}
				out[kind+"/"+name+"/"+k] = s
			}
		}
	}
	return out
}

func decodeB64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("secret data: %v", err)
	}
	return string(b)
}

func recapOf(t *testing.T, out, host string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, host+" ") && strings.Contains(l, "ok=") {
			return strings.Join(strings.Fields(l)[2:], " ")
		}
	}
	t.Fatalf("no recap for %s in output:\n%s", host, out)
	return ""
}

// TestPositTeamOnKubernetes deploys Package Manager, Connect and Workbench
// with playbooks/kubernetes.yml and the repository's example inventory
// (inventory/kubernetes) on a real API server with kwok nodes, and the
// external PostgreSQL on a testbed host; then it reads back what the
// products would run with, runs again (no change), checks, edits a
// ConfigMap by hand (drift found and named by --check --diff, exit 2), and
// puts it back.
func TestPositTeamOnKubernetes(t *testing.T) {
	e := newPositEnv(t)
	out, code := e.play()
	if code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, out)
	}
	t.Logf("first run: cluster %s, db %s", recapOf(t, out, "cluster"), recapOf(t, out, "db"))

	ns := map[string]string{"package_manager": "posit-package-manager", "connect": "posit-connect", "workbench": "posit-workbench"}
	release := map[string]string{"package_manager": "package-manager", "connect": "connect", "workbench": "workbench"}
	ppm := "http://package-manager.posit-package-manager.svc.cluster.local"
	host := e.bed.Host("db").Addr

	t.Run("deployments available on kwok nodes", func(t *testing.T) {
		for p, n := range ns {
			d := e.get("/apis/apps/v1/namespaces/" + n + "/deployments/" + release[p])
			if dig(d, "spec", "replicas") != float64(2) || dig(d, "status", "availableReplicas") != float64(2) {
				t.Errorf("%s: replicas %v, available %v; want 2 and 2", p, dig(d, "spec", "replicas"), dig(d, "status", "availableReplicas"))
			}
		}
	})

	t.Run("shared storage bound ReadWriteMany", func(t *testing.T) {
		want := map[string]int{"package_manager": 1, "connect": 1, "workbench": 2}
		for p, n := range ns {
			items, _ := e.get("/api/v1/namespaces/" + n + "/persistentvolumeclaims")["items"].([]any)
			bound := 0
			for _, it := range items {
				if dig(it, "status", "phase") == "Bound" && dig(it, "spec", "accessModes", 0) == "ReadWriteMany" {
					bound++
				}
			}
			if bound != want[p] {
				t.Errorf("%s: %d ReadWriteMany claims bound, want %d: %v", p, bound, want[p], items)
			}
		}
	})

	t.Run("ingress per product with TLS from the internal CA", func(t *testing.T) {
		hosts := map[string]string{"package_manager": "packagemanager.example.com", "connect": "connect.example.com", "workbench": "workbench.example.com"}
		for p, n := range ns {
			ing := e.get("/apis/networking.k8s.io/v1/namespaces/" + n + "/ingresses/" + release[p])
			if dig(ing, "spec", "rules", 0, "host") != hosts[p] || dig(ing, "spec", "ingressClassName") != "nginx" ||
				dig(ing, "spec", "tls", 0, "secretName") != "posit-team-tls" {
				t.Errorf("%s: ingress %v", p, dig(ing, "spec"))
			}
			crt := e.configData(n)["secrets/posit-team-tls/tls.crt"]
			blk, _ := pem.Decode([]byte(crt))
			if blk == nil {
				t.Fatalf("%s: no certificate in the TLS secret", p)
			}
			cert, err := x509.ParseCertificate(blk.Bytes)
			if err != nil || cert.VerifyHostname(hosts[p]) != nil {
				t.Errorf("%s: certificate does not name %s: %v", p, hosts[p], err)
			}
		}
	})

	t.Run("each product's rendered config", func(t *testing.T) {
		checks := map[string][]*regexp.Regexp{
			"package_manager": {
				regexp.MustCompile(`(?m)^\s*URL\s*=\s*"?postgres://rspm@` + regexp.QuoteMeta(host) + `:5432/rstudio_pm\?sslmode=disable"?$`),
				regexp.MustCompile(`(?m)^\s*UsageDataURL\s*=\s*"?postgres://rspm@` + regexp.QuoteMeta(host) + `:5432/rstudio_pm_usage\?sslmode=disable"?$`),
			},
			"connect": {
				regexp.MustCompile(`(?m)^\[RPackageRepository "CRAN"\]\s*\n\s*URL\s*=\s*"?` + regexp.QuoteMeta(ppm+"/cran/latest") + `"?$`),
				regexp.MustCompile(`(?m)^\s*URL\s*=\s*"?postgres://connect@` + regexp.QuoteMeta(host) + `:5432/connect\?sslmode=disable"?$`),
			},
			"workbench": {
				regexp.MustCompile(`(?m)^CRAN=` + regexp.QuoteMeta(ppm+"/cran/latest") + `$`),
				regexp.MustCompile(`(?m)^index-url\s*=\s*` + regexp.QuoteMeta(ppm+"/pypi/latest/simple") + `$`),
				regexp.MustCompile(`(?m)^trusted-host\s*=\s*package-manager.posit-package-manager.svc.cluster.local$`),
				regexp.MustCompile(`(?m)^connection-uri=postgres://rstudio@` + regexp.QuoteMeta(host) + `:5432/rstudio\?sslmode=disable$`),
			},
		}
		for p, res := range checks {
			data := e.configData(ns[p])
			var all strings.Builder
			for k, v := range data {
				fmt.Fprintf(&all, "== %s\n%s\n", k, v)
				for _, pw := range e.passwords {
					if strings.Contains(v, pw) && k != "secrets/"+release[p]+"-database/password" && !strings.HasPrefix(k, "secrets/sh.helm.release") {
						t.Errorf("%s: a database password is in %s", p, k)
					}
				}
			}
			for _, re := range res {
				if !re.MatchString(all.String()) {
					t.Errorf("%s: no config matches %s in:\n%s", p, re, all.String())
				}
			}
		}
		// Connect's Python content installs from Package Manager.
		d := e.get("/apis/apps/v1/namespaces/posit-connect/deployments/connect")
		env, _ := json.Marshal(dig(d, "spec", "template", "spec", "containers", 0, "env"))
		for _, want := range []string{`{"name":"PIP_INDEX_URL","value":"` + ppm + `/pypi/latest/simple"}`,
			`"name":"CONNECT_POSTGRES_PASSWORD","valueFrom":{"secretKeyRef":{"key":"password","name":"connect-database"}}`,
			`"name":"RSC_LICENSE","valueFrom":{"secretKeyRef":{"key":"license-key","name":"connect-license"}}`} {
			if !strings.Contains(string(env), want) {
				t.Errorf("Connect's environment lacks %s: %s", want, env)
			}
		}
	})

	t.Run("each Secret's password opens the database its URL names", func(t *testing.T) {
		dbs := map[string][2]string{"package_manager": {"rspm", "rstudio_pm"}, "connect": {"connect", "connect"}, "workbench": {"rstudio", "rstudio"}}
		for p, n := range ns {
			pw := e.configData(n)["secrets/"+release[p]+"-database/password"]
			if pw != e.passwords[p] {
				t.Fatalf("%s: Secret %s-database holds %q", p, release[p], pw)
			}
			u := url.URL{Scheme: "postgres", User: url.UserPassword(dbs[p][0], pw), Host: host + ":5432", Path: dbs[p][1], RawQuery: "sslmode=disable&connect_timeout=10"}
			db, err := sql.Open("postgres", u.String())
			if err == nil {
				err = db.Ping()
				db.Close()
			}
			if err != nil {
				t.Errorf("%s: logging in to %s as %s: %v", p, dbs[p][1], dbs[p][0], err)
			}
		}
	})

	t.Run("workbench replicas share one secure-cookie key and launcher key", func(t *testing.T) {
		data := e.configData("posit-workbench")
		var found []string
		for k := range data {
			if strings.HasSuffix(k, "/secure-cookie-key") || strings.HasSuffix(k, "/launcher.pem") {
				found = append(found, k)
			}
		}
		if len(found) != 2 {
			t.Errorf("want one secure-cookie-key and one launcher.pem in Workbench's Secrets, found %v", found)
		}
	})

	out, code = e.play("--diff")
	if code != 0 || !strings.Contains(recapOf(t, out, "cluster"), "changed=0 ") || !strings.Contains(recapOf(t, out, "db"), "changed=0 ") {
		t.Fatalf("second run: exit %d, want no change\n%s", code, out)
	}
	if out, code = e.play("--check", "--detailed-exitcode"); code != 0 {
		t.Fatalf("--check --detailed-exitcode on the converged cluster: exit %d, want 0\n%s", code, out)
	}

	// Someone edits Connect's configuration by hand.
	cm := e.get("/api/v1/namespaces/posit-connect/configmaps/connect-config")
	data, _ := cm["data"].(map[string]any)
	gcfg, _ := data["rstudio-connect.gcfg"].(string)
	if !strings.Contains(gcfg, ppm+"/cran/latest") {
		t.Fatalf("connect-config has no rstudio-connect.gcfg naming Package Manager: %v", data)
	}
	data["rstudio-connect.gcfg"] = strings.ReplaceAll(gcfg, ppm+"/cran/latest", "https://cran.example.org")
	if code, b, err := e.c.Do(context.Background(), "PUT", "/api/v1/namespaces/posit-connect/configmaps/connect-config?fieldManager=kubectl-edit", cm); err != nil || code != http.StatusOK {
		t.Fatalf("editing the ConfigMap: %d %v %s", code, err, b)
	}
	out, code = e.play("--check", "--diff", "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, "ConfigMap posit-connect/connect-config") || !strings.Contains(out, "https://cran.example.org") {
		t.Fatalf("--check --diff after a hand edit: exit %d, want 2 and a diff naming the ConfigMap and the URL\n%s", code, out)
	}
	if out, code = e.play(); code != 0 || !strings.Contains(recapOf(t, out, "cluster"), "changed=1 ") {
		t.Fatalf("run after the hand edit: exit %d, want one change\n%s", code, out)
	}
	got, _ := dig(e.get("/api/v1/namespaces/posit-connect/configmaps/connect-config"), "data", "rstudio-connect.gcfg").(string)
	if got != gcfg {
		t.Errorf("the run did not put connect-config back:\n%s", got)
	}
	if out, code = e.play("--check", "--detailed-exitcode"); code != 0 {
		t.Fatalf("--check after the repair: exit %d, want 0\n%s", code, out)
	}
}
