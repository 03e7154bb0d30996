package connection

import (
	"bytes"
	"hash/crc32"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestCksumMatchesPOSIXCksum compares Cksum with the host's cksum binary
// on lengths that cross the 8-byte blocks and the length bytes' sizes.
func TestCksumMatchesPOSIXCksum(t *testing.T) {
	bin, err := exec.LookPath("cksum")
	if err != nil {
		t.Skip("cksum not installed")
	}
	rng := rand.NewChaCha8([32]byte{3})
	for _, n := range []int{0, 1, 2, 7, 8, 9, 15, 16, 17, 255, 256, 257, 4095, 65536, 65537, 1<<20 + 3} {
		data := make([]byte, n)
		rng.Read(data)
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			cmd := exec.Command(bin)
			cmd.Stdin = bytes.NewReader(data)
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			f := strings.Fields(string(out))
			if len(f) < 2 {
				t.Fatalf("cksum printed %q", out)
			}
			var c Cksum
			// Uneven writes: the result must not depend on how data arrives.
			for rest := data; len(rest) > 0; {
				k := min(len(rest), 1+int(rng.Uint64()%13))
				c.Write(rest[:k])
				rest = rest[k:]
			}
			if got := strconv.FormatUint(uint64(c.Sum32()), 10); got != f[0] || strconv.Itoa(n) != f[1] {
				t.Errorf("Cksum = %s %d, cksum printed %s %s", got, c.Len(), f[0], f[1])
			}
		})
	}
}

func TestCksumKnownValues(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint32
	}{
		{"", 4294967295},
		{"a", 1220704766},
		{"123456789", 930766865},
	} {
		var c Cksum
		c.Write([]byte(tt.in))
		if got := c.Sum32(); got != tt.want {
			t.Errorf("cksum(%q) = %d, want %d", tt.in, got, tt.want)
		}
		// Go's IEEE CRC-32 is a different function: using it would make
		// every check fail.
		if tt.in != "" && crc32.ChecksumIEEE([]byte(tt.in)) == tt.want {
			t.Errorf("cksum(%q) equals crc32 IEEE", tt.in)
		}
	}
}

func BenchmarkCksum(b *testing.B) {
	data := make([]byte, 1<<20)
	b.SetBytes(int64(len(data)))
	var c Cksum
	for b.Loop() {
		c.Write(data)
	}
}
