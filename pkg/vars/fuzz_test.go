package vars

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeYAML parses and decodes arbitrary YAML the way vars files,
// playbooks and -e @file are read. It must never panic, every error must
// name the file, and no input may take long: alias cycles and alias bombs
// are refused before they are expanded.
func FuzzDecodeYAML(f *testing.F) {
	for _, s := range []string{
		"a: 1\nb: [x, {y: yes}]\n",
		"base: &b {p: 1}\nm:\n  <<: *b\n  q: 2\n",
		"a: &a {<<: *a}\n",
		"a: &a [*a]\n",
		"a: &a\n  b: &b\n    <<: [{x: 1}, *a]\n",
		aliasBomb(6),
		deepAlias(50),
		"a: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  00\n",
		"? [a, b]\n: c\n",
		"- &x 1\n- *x\n- {*x : 2}\n",
		strings.Repeat("[", 100) + strings.Repeat("]", 100),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		// A hang would stall the fuzzer silently; crashing saves the input.
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("decoding %q took more than 10 s", src)) })
		defer watchdog.Stop()
		start := time.Now()
		n, err := ParseYAML("f.yml", src)
		if err == nil {
			_, err = Decode("f.yml", n)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yml") {
				t.Fatalf("error without the file: %v", err)
			}
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v", d)
		}
	})
}
