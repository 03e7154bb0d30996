package cli

import (
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// TestMain runs more parallel tests than there are CPUs unless -parallel
// is given: TestNoLogHidesSecretEverywhere's runs against an unreachable
// host spend their time in connect backoff, not on a CPU.
func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		if err := flag.Set("test.parallel", strconv.Itoa(8*runtime.GOMAXPROCS(0))); err != nil {
			panic(err)
		}
	}
	code := m.Run()
	// buildTend's binary is shared by the tests of this process.
	if tendBin != "" {
		os.RemoveAll(filepath.Dir(tendBin))
	}
	os.Exit(code)
}
