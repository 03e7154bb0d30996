package k8s

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Cluster is a running control plane with simulated nodes.
type Cluster struct {
	// Kubeconfig is the path of a kubeconfig for the cluster's admin
	// (context "tend-test", CA included).
	Kubeconfig string
	// Server is the API server's URL, Token the admin's bearer token.
	Server, Token string
	// Dir holds the cluster's files (keys, logs, etcd data).
	Dir string

	bins   string
	procs  []*proc
	client *http.Client
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// BinDir returns the directory holding the cached binaries, building them
// first when they are missing (about 10 minutes on two cores).
func BinDir(ctx context.Context) (string, error) {
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "build-bins")
	cmd := exec.CommandContext(ctx, script)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building the cluster binaries with %s: %v\n%s", script, err, errb.String())
	}
	return strings.TrimSpace(out.String()), nil
}

// Start starts a cluster with the given number of kwok nodes and stops it
// when the test ends, failed or not. Without root or etcd the test is
// skipped with a message, except in CI (CI=true), where that fails it.
func Start(t testing.TB, nodes int) *Cluster {
	t.Helper()
	skip := func(format string, a ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("k8s: "+format+" (CI=true: the integration suite must run in CI)", a...)
		}
		t.Skipf("k8s: skipping test that starts a cluster: "+format, a...)
	}
	if os.Geteuid() != 0 {
		skip("not root (the binaries are cached under /var/cache)")
	}
	if _, err := exec.LookPath("etcd"); err != nil {
		skip("etcd not installed (Debian package etcd-server; integration/prereqs installs it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	bins, err := BinDir(ctx)
	if err != nil {
		t.Fatalf("k8s: %v", err)
	}
	c := &Cluster{Dir: t.TempDir(), bins: bins}
	t.Cleanup(func() {
		if t.Failed() {
			c.dumpLogs(t)
		}
		c.Stop()
	})
	if err := c.start(ctx, nodes); err != nil {
		t.Fatalf("k8s: starting the cluster: %v", err)
	}
	return c
}

// Stop stops every process the cluster started, by PID, and waits for
// them. It is safe to call twice.
func (c *Cluster) Stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	c.procs = nil
}

func (c *Cluster) dumpLogs(t testing.TB) {
	for _, p := range c.procs {
		b, _ := os.ReadFile(p.log)
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		t.Logf("k8s: last lines of %s's log:\n%s", p.name, b)
	}
}

func (c *Cluster) start(ctx context.Context, nodes int) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	if err := c.run("etcd", "etcd", "--data-dir", filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
		"--initial-cluster", fmt.Sprintf("default=http://127.0.0.1:%d", ports[1])); err != nil {
		return err
	}
	if err := c.writeKeys(); err != nil {
		return err
	}
	c.Server = fmt.Sprintf("https://127.0.0.1:%d", ports[2])
	f := func(name string) string { return filepath.Join(c.Dir, name) }
	if err := c.run("kube-apiserver", filepath.Join(c.bins, "kube-apiserver"),
		"--etcd-servers="+etcdURL, "--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", ports[2]),
		"--tls-cert-file="+f("serving.crt"), "--tls-private-key-file="+f("serving.key"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+f("sa.pub"), "--service-account-signing-key-file="+f("sa.key"),
		"--token-auth-file="+f("tokens.csv"), "--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.96.0.0/16", "--cert-dir="+f("apiserver-certs")); err != nil {
		return err
	}
	if err := c.waitReady(ctx, "/readyz", 2*time.Minute); err != nil {
		return err
	}
	kc := f("kubeconfig")
	if err := c.WriteKubeconfig(kc, c.Server); err != nil {
		return err
	}
	for _, p := range [][]string{
		{"kube-controller-manager", "--kubeconfig=" + kc, "--service-account-private-key-file=" + f("sa.key"),
			"--root-ca-file=" + f("serving.crt"), "--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=0",
			"--use-service-account-credentials=false",
			"--controllers=*,-nodeipam",
			// kwok does not keep the nodes' heartbeats fresh on a loaded machine; the node
			// lifecycle controller would then mark the simulated nodes and their
			// pods not ready, and kwok does not make the pods ready again.
			"--node-monitor-grace-period=1h"},
		{"kube-scheduler", "--kubeconfig=" + kc, "--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=0"},
		{"kwok", "--kubeconfig=" + kc, "--manage-all-nodes=true", "--config=" + filepath.Join(c.bins, "kwok-stages.yaml")},
	} {
		if err := c.run(p[0], filepath.Join(c.bins, p[0]), p[1:]...); err != nil {
			return err
		}
	}
	for i := 0; i < nodes; i++ {
		if err := c.addNode(ctx, fmt.Sprintf("kwok-node-%d", i)); err != nil {
			return err
		}
	}
	// The default ServiceAccount, which pods need, comes from the
	// controller manager: wait for it, so tests can create pods at once.
	return c.poll(ctx, time.Minute, "the default ServiceAccount", func() (bool, error) {
		code, _, err := c.Do(ctx, "GET", "/api/v1/namespaces/default/serviceaccounts/default", nil)
		return code == http.StatusOK, err
	})
}

func (c *Cluster) run(name, bin string, args ...string) error {
	logPath := filepath.Join(c.Dir, name+".log")
	lf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer lf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Dir = c.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); close(p.done) }()
	c.procs = append(c.procs, p)
	return nil
}

// Do sends one request to the API server as the admin; body, when not
// nil, is encoded as JSON. It returns the status code and the body.
func (c *Cluster) Do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Server+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// Create posts obj to path and fails unless the API server accepts it.
func (c *Cluster) Create(ctx context.Context, path string, obj any) error {
	code, b, err := c.Do(ctx, "POST", path, obj)
	if err != nil {
		return err
	}
	if code != http.StatusCreated && code != http.StatusOK {
		return fmt.Errorf("POST %s: %d %s", path, code, b)
	}
	return nil
}

func (c *Cluster) addNode(ctx context.Context, name string) error {
	res := map[string]any{"cpu": "32", "memory": "256Gi", "pods": "110"}
	return c.Create(ctx, "/api/v1/nodes", map[string]any{
		"apiVersion": "v1", "kind": "Node",
		"metadata": map[string]any{
			"name":        name,
			"annotations": map[string]any{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			"labels":      map[string]any{"type": "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"},
		},
		"status": map[string]any{"allocatable": res, "capacity": res},
	})
}

// AddPV creates a hostPath PersistentVolume of the given storage class and
// size with access mode ReadWriteMany, as a storage admin pre-provisions
// shared volumes (no CSI driver runs here).
func (c *Cluster) AddPV(ctx context.Context, name, class, size string) error {
	return c.Create(ctx, "/api/v1/persistentvolumes", map[string]any{
		"apiVersion": "v1", "kind": "PersistentVolume",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{
			"capacity":                      map[string]any{"storage": size},
			"accessModes":                   []any{"ReadWriteMany"},
			"storageClassName":              class,
			"persistentVolumeReclaimPolicy": "Retain",
			"hostPath":                      map[string]any{"path": filepath.Join(c.Dir, "pv", name)},
		},
	})
}

func (c *Cluster) waitReady(ctx context.Context, path string, limit time.Duration) error {
	return c.poll(ctx, limit, "the API server", func() (bool, error) {
		code, _, err := c.Do(ctx, "GET", path, nil)
		if err != nil {
			return false, nil // not listening yet
		}
		return code == http.StatusOK, nil
	})
}

func (c *Cluster) poll(ctx context.Context, limit time.Duration, what string, ok func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	for {
		done, err := ok()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if done {
			return nil
		}
		for _, p := range c.procs {
			select {
			case <-p.done:
				return fmt.Errorf("waiting for %s: %s exited (log: %s)", what, p.name, p.log)
			default:
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v", what, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// writeKeys writes the service-account key pair, a self-signed serving
// certificate for 127.0.0.1, the token file and the kubeconfig.
func (c *Cluster) writeKeys() error {
	sa, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	saPub, err := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tend-test-apiserver"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return err
	}
	c.Token = hex.EncodeToString(tok)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cert)
	c.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	c.Kubeconfig = filepath.Join(c.Dir, "kubeconfig")
	files := map[string][]byte{
		"sa.key":      pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(sa)}),
		"sa.pub":      pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPub}),
		"serving.crt": cert,
		"serving.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		"tokens.csv":  []byte(c.Token + ",admin,1,system:masters\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(c.Dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// WriteKubeconfig writes a kubeconfig for the admin to path, with the
// given server URL (tests of bad input point it elsewhere).
func (c *Cluster) WriteKubeconfig(path, server string) error {
	cert, err := os.ReadFile(filepath.Join(c.Dir, "serving.crt"))
	if err != nil {
		return err
	}
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: tend-test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: tend-test
  context:
    cluster: tend-test
    user: admin
current-context: tend-test
`, server, base64.StdEncoding.EncodeToString(cert), c.Token)
	return os.WriteFile(path, []byte(kc), 0o600)
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, errors.Join(errors.New("finding a free port"), err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
