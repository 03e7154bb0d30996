package conf

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseGcfg(t *testing.T) {
	src := `; comment
[Server]
Address = http://connect.example.com:3939   ; trailing comment
DataDir=/data/connect

[RPackageRepository "CRAN"]
URL = "http://ppm:4242/cran/__linux__/bookworm/latest"
[rpackagerepository "RSPM"]
URL = http://ppm:4242/cran/latest
[Python]
Enabled
Executable = /opt/python/3.12/bin/python
Executable = /opt/python/3.11/bin/python
[Postgres]
Password = "a;b#c \"q\" "
Multi = two  words  inside
`
	g, err := ParseGcfg("x.gcfg", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		section, sub, key string
		want              []string
	}{
		{"server", "", "address", []string{"http://connect.example.com:3939"}},
		{"SERVER", "", "DataDir", []string{"/data/connect"}},
		{"RPackageRepository", "CRAN", "URL", []string{"http://ppm:4242/cran/__linux__/bookworm/latest"}},
		{"RPackageRepository", "RSPM", "url", []string{"http://ppm:4242/cran/latest"}},
		{"RPackageRepository", "cran", "URL", nil}, // subsections are case-sensitive
		{"Python", "", "Enabled", []string{"true"}},
		{"Python", "", "Executable", []string{"/opt/python/3.12/bin/python", "/opt/python/3.11/bin/python"}},
		{"Postgres", "", "Password", []string{`a;b#c "q" `}},
		{"Postgres", "", "Multi", []string{"two  words  inside"}},
	} {
		if got := g.All(c.section, c.sub, c.key); !reflect.DeepEqual(got, c.want) {
			t.Errorf("[%s %q] %s = %q, want %q", c.section, c.sub, c.key, got, c.want)
		}
	}
	if got := g.Subsections("RPackageRepository"); !reflect.DeepEqual(got, []string{"CRAN", "RSPM"}) {
		t.Errorf("subsections = %q", got)
	}
	if l := g.Line("Server", "", "DataDir"); l != 4 {
		t.Errorf("line of DataDir = %d, want 4", l)
	}
}

func TestParseGcfgErrors(t *testing.T) {
	for name, c := range map[string]struct{ src, want string }{
		"outside section":   {"Key = v\n", "x.gcfg:1: variable"},
		"unclosed header":   {"[Server\n", "x.gcfg:1: section header"},
		"unquoted sub":      {"[Repo CRAN]\n", "must be a quoted string"},
		"bad name":          {"[Server]\n1key = v\n", "x.gcfg:2: invalid variable name"},
		"unterminated":      {"[Server]\nA = \"open\n", "x.gcfg:2: variable A: unterminated"},
		"bad escape":        {"[Server]\nA = \\q\n", "invalid escape"},
		"junk after header": {"[Server] x\n", "unexpected"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseGcfg("x.gcfg", []byte(c.src))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestParseKV(t *testing.T) {
	kv, err := ParseKV("r.conf", []byte("# c\nwww-port = 8787\n\nserver-health-check-enabled=1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := kv.Get("www-port"); v != "8787" || kv.Lines["server-health-check-enabled"] != 4 {
		t.Errorf("kv = %+v", kv)
	}
	for name, c := range map[string]struct{ src, want string }{
		"no equals": {"www-port 8787\n", "r.conf:1: expected key=value"},
		"twice":     {"a=1\na=2\n", "r.conf:2: option \"a\" given twice"},
		"empty key": {"=1\n", "invalid key"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseKV("r.conf", []byte(c.src)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want %q", err, c.want)
			}
		})
	}
}

// write creates files under a fresh root; modes per file.
func write(t *testing.T, files map[string]string, modes map[string]os.FileMode) string {
	t.Helper()
	root := t.TempDir()
	for rel, data := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := modes[rel]
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestLoadWorkbench(t *testing.T) {
	good := map[string]string{
		"etc/rstudio/rserver.conf":      "www-port=8787\nserver-health-check-enabled=1\nserver-shared-storage-path=/shared/wb\nload-balancing-enabled=1\n",
		"etc/rstudio/database.conf":     "provider=postgresql\nhost=db\nport=5432\ndatabase=rstudio\nusername=rstudio\npassword=p@ss/word\n",
		"etc/rstudio/repos.conf":        "CRAN=http://ppm:4242/cran/__linux__/bookworm/latest\n",
		"etc/rstudio/load-balancer":     "[config]\nbalancer=sessions\nwww-host-name=wb1\n",
		"etc/rstudio/secure-cookie-key": "0123456789abcdef\n",
		"etc/pip.conf":                  "[global]\nindex-url = http://ppm:4242/pypi/latest/simple\n",
	}
	modes := map[string]os.FileMode{"etc/rstudio/database.conf": 0o600, "etc/rstudio/secure-cookie-key": 0o600}
	eff, err := LoadWorkbench(write(t, good, modes))
	if err != nil {
		t.Fatal(err)
	}
	if eff.Listen != "0.0.0.0:8787" || !eff.Health || eff.Shared != "/shared/wb" {
		t.Errorf("effective = %+v", eff)
	}
	d := eff.Database
	if d.Provider != "postgres" || d.Host != "db" || d.Name != "rstudio" || d.User != "rstudio" || !d.Password ||
		d.DSN != "postgres://rstudio:p%40ss%2Fword@db:5432/rstudio?sslmode=disable" {
		t.Errorf("database = %+v", d)
	}
	if len(eff.Repos) != 2 || eff.Repos[0].Name != "CRAN" || eff.Repos[1].Kind != "python" {
		t.Errorf("repos = %+v", eff.Repos)
	}
	if eff.Settings["lb-www-host-name"] != "wb1" || eff.Settings["secure-cookie-key-sha256"] == nil {
		t.Errorf("settings = %v", eff.Settings)
	}

	for name, c := range map[string]struct {
		change map[string]string
		modes  map[string]os.FileMode
		want   string
	}{
		"syntax":                {map[string]string{"etc/rstudio/rserver.conf": "www-port 8787\n"}, nil, "rserver.conf:1: expected key=value"},
		"bad port":              {map[string]string{"etc/rstudio/rserver.conf": "www-port=eighty\n"}, nil, "www-port=eighty"},
		"bad bool":              {map[string]string{"etc/rstudio/rserver.conf": "server-health-check-enabled=yes please\n"}, nil, "want 0 or 1"},
		"database mode":         {nil, map[string]os.FileMode{"etc/rstudio/database.conf": 0o644}, "must have mode 0600"},
		"database provider":     {map[string]string{"etc/rstudio/database.conf": "provider=mysql\n"}, nil, "want sqlite or postgresql"},
		"database incomplete":   {map[string]string{"etc/rstudio/database.conf": "provider=postgresql\nhost=db\n"}, nil, "needs host, database and username"},
		"database unknown":      {map[string]string{"etc/rstudio/database.conf": "provider=postgresql\nhots=db\n"}, nil, "unknown option \"hots\""},
		"repos without CRAN":    {map[string]string{"etc/rstudio/repos.conf": "PPM=http://ppm:4242/cran/latest\n"}, nil, "CRAN=URL line is required"},
		"repos bad url":         {map[string]string{"etc/rstudio/repos.conf": "CRAN=ppm:4242\n"}, nil, "not an http(s) URL"},
		"balancer":              {map[string]string{"etc/rstudio/load-balancer": "[config]\nbalancer=random\n"}, nil, "want one of sessions, system-load, user-hash, custom"},
		"balancer undocumented": {map[string]string{"etc/rstudio/load-balancer": "[config]\nbalancer=user-sessions\n"}, nil, "balancer=user-sessions"},
		"cookie key mode":       {nil, map[string]os.FileMode{"etc/rstudio/secure-cookie-key": 0o644}, "must not be readable"},
		"cookie key empty":      {map[string]string{"etc/rstudio/secure-cookie-key": "\n"}, nil, "secure cookie key is empty"},
		"pip.conf":              {map[string]string{"etc/pip.conf": "[global]\nindex-url = pypi\n"}, nil, "not an http(s) URL"},
	} {
		t.Run(name, func(t *testing.T) {
			files, m := map[string]string{}, map[string]os.FileMode{}
			for k, v := range good {
				files[k] = v
			}
			for k, v := range modes {
				m[k] = v
			}
			for k, v := range c.change {
				files[k] = v
			}
			for k, v := range c.modes {
				m[k] = v
			}
			_, err := LoadWorkbench(write(t, files, m))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want %q", err, c.want)
			}
		})
	}
	// Load balancing without a cookie key is refused.
	files := map[string]string{"etc/rstudio/rserver.conf": "load-balancing-enabled=1\n"}
	if _, err := LoadWorkbench(write(t, files, nil)); err == nil || !strings.Contains(err.Error(), "secure cookie key is missing") {
		t.Errorf("lb without key: %v", err)
	}
	// Defaults: no files at all is a valid embedded setup.
	eff, err = LoadWorkbench(t.TempDir())
	if err != nil || eff.Listen != "0.0.0.0:8787" || eff.Database.Provider != "sqlite" || eff.Health {
		t.Errorf("defaults: %+v %v", eff, err)
	}
}

func TestLoadConnectAndPackageManager(t *testing.T) {
	connect := `[Server]
Address = http://connect.example.com
DataDir = /shared/connect
[HTTP]
Listen = :3939
[Database]
Provider = postgres
[Postgres]
URL = "postgres://connect@db:5432/connect?sslmode=disable"
Password = "s3;cret"
InstrumentationURL = "postgres://connect@db:5432/connect_instrumentation?sslmode=disable"
[Metrics]
DataPath = /var/lib/rstudio-connect-metrics
[RPackageRepository "CRAN"]
URL = http://ppm:4242/cran/__linux__/bookworm/latest
[RPackageRepository "RSPM"]
URL = http://ppm:4242/cran/__linux__/bookworm/latest
`
	root := write(t, map[string]string{ConnectConfig: connect}, map[string]os.FileMode{ConnectConfig: 0o600})
	eff, err := LoadConnect(root)
	if err != nil {
		t.Fatal(err)
	}
	if eff.Listen != ":3939" || eff.DataDir != "/shared/connect" || eff.Metrics != "/var/lib/rstudio-connect-metrics" ||
		eff.Database.DSN != "postgres://connect:s3;cret@db:5432/connect?sslmode=disable" ||
		len(eff.Database.Extra) != 0 || len(eff.Repos) != 2 {
		t.Errorf("connect = %+v", eff)
	}
	// InstrumentationURL is not in Connect's docs (docConnectPG): not
	// read, and said so.
	if len(eff.Warnings) != 1 || !strings.Contains(eff.Warnings[0], ":11: [Postgres] InstrumentationURL is not a documented Connect setting") {
		t.Errorf("warnings = %q", eff.Warnings)
	}
	if eff.Settings["Postgres.Password"] != "(set)" {
		t.Errorf("password not masked in settings: %v", eff.Settings["Postgres.Password"])
	}

	ppm := "[Server]\nDataDir = /shared/ppm\n[HTTP]\nListen = :4242\n[Database]\nProvider = postgres\n[Postgres]\nURL = postgres://rspm@db/rstudio_pm\nUsageDataURL = postgres://rspm@db/rstudio_pm_usage\nPassword = x\n"
	eff, err = LoadPackageManager(write(t, map[string]string{PPMConfig: ppm}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if eff.Listen != ":4242" || eff.DataDir != "/shared/ppm" || eff.Database.Port != "5432" || eff.Database.ExtraNames["UsageDataURL"] != "rstudio_pm_usage" {
		t.Errorf("ppm = %+v", eff)
	}

	for name, c := range map[string]struct {
		load func(string) (*Effective, error)
		path string
		src  string
		want string
	}{
		"connect missing":  {LoadConnect, ConnectConfig, "", "configuration file missing"},
		"connect listen":   {LoadConnect, ConnectConfig, "[HTTP]\nListen = 3939\n", ":2: [HTTP] Listen"},
		"connect provider": {LoadConnect, ConnectConfig, "[Database]\nProvider = mysql\n", "want sqlite or postgres"},
		"connect no url":   {LoadConnect, ConnectConfig, "[Database]\nProvider = postgres\n", "needs [Postgres] URL"},
		"connect bad url":  {LoadConnect, ConnectConfig, "[Database]\nProvider = postgres\n[Postgres]\nURL = mysql://db/x\n", "scheme must be postgres"},
		"connect repo":     {LoadConnect, ConnectConfig, "[RPackageRepository \"CRAN\"]\nURL = cran\n", "not an http(s) URL"},
		"connect bool":     {LoadConnect, ConnectConfig, "[Metrics]\nEnabled = maybe\n", "invalid boolean"},
		"connect syntax":   {LoadConnect, ConnectConfig, "[Server]\nAddress = \"x\n", "unterminated"},
		"connect datadir":  {LoadConnect, ConnectConfig, "[Server]\nDataDir = data\n", "absolute path"},
		"ppm storage":      {LoadPackageManager, PPMConfig, "[Storage]\nDefault = ftp\n", "want file or s3"},
		"ppm s3 bucket":    {LoadPackageManager, PPMConfig, "[Storage]\nDefault = s3\n", "needs [S3Storage] Bucket"},
		"ppm no database":  {LoadPackageManager, PPMConfig, "[Database]\nProvider = postgres\n[Postgres]\nURL = postgres://rspm@db\n", "needs a host and a database name"},
	} {
		t.Run(name, func(t *testing.T) {
			files := map[string]string{}
			if c.src != "" {
				files[c.path] = c.src
			}
			_, err := c.load(write(t, files, nil))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want %q", err, c.want)
			}
		})
	}
}
