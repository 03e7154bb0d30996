package modules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
)

func TestStatChecksumAlgorithm(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("hello\n"))
	m := &Stat{}
	args, err := m.Spec().Validate(map[string]any{"path": p, "checksum_algorithm": "sha256"}, false)
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := module.Execute(context.Background(), m, &module.Host{Name: "local", Conn: connection.Local{}}, args, false)
	if err != nil {
		t.Fatal(err)
	}
	got := res["stat"].(map[string]any)["checksum"]
	if got != hex.EncodeToString(sum[:]) {
		t.Fatalf("sha256 checksum %v, want %x", got, sum)
	}
}
