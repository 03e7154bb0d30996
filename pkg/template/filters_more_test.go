package template

import (
	"math"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/vault"
)

// TestMoreFiltersValues checks native values (the oracle compares text):
// log and pow are floats, human_to_bytes an int even beyond int64,
// prefix and size of an IPv6 /64 numbers.
func TestMoreFiltersValues(t *testing.T) {
	runCases(t, []renderCase{
		{"log float", "{{ 8 | log(2) }}", 3.0},
		{"pow float", "{{ 2 | pow(3) }}", 8.0},
		{"root cube", "{{ 27 | root(3) }}", 3.0},
		{"human_to_bytes", "{{ '1.5K' | human_to_bytes }}", 1536},
		{"ipaddr prefix", "{{ '2001:db8::/64' | ipaddr('prefix') }}", 64},
		{"ipaddr version", "{{ '10.0.0.1' | ansible.utils.ipaddr('version') }}", 4},
		{"ipaddr invalid", "{{ 'not-an-ip' | ipaddr }}", false},
		{"ipaddr list filters", "{{ ['10.0.0.1', 'x', '::1'] | ansible.netcommon.ipaddr }}", []any{"10.0.0.1", "::1"}},
		{"ipaddr via map", "{{ ['10.0.0.1/8'] | map('ansible.netcommon.ipaddr', 'network') | list }}", []any{"10.0.0.0"}},
		{"rekey", "{{ [{'n': 'a'}] | rekey_on_member('n') }}", map[string]any{"a": map[string]any{"n": "a"}}},
		{"datetime days", "{{ ('2024-03-01' | to_datetime('%Y-%m-%d') - '2024-01-01' | to_datetime('%Y-%m-%d')).days }}", 60},
	})
}

// TestMoreFiltersErrors checks that failing filters give Ansible's
// messages.
func TestMoreFiltersErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"{{ 'a' | log }}", "log() can only be used on numbers: must be real number, not str"},
		{"{{ 0 | log }}", "math domain error"},
		{"{{ -1 | root }}", "root() can only be used on numbers: math domain error"},
		{"{{ 10 | pow(1000) }}", "math range error"},
		{"{{ 'abc' | human_readable }}", "human_readable() failed on bad input: '>=' not supported between instances of 'str' and 'int'"},
		{"{{ '10Mb' | human_to_bytes }}", "human_to_bytes() can't interpret following string: 10Mb"},
		{"{{ [{'a': 1}, {'a': 1}] | rekey_on_member('a') }}", "Key 1 is not unique, cannot correctly turn into dict"},
		{"{{ [{'a': 1}] | rekey_on_member('b') }}", "Key b was not found"},
		{"{{ 'x' | rekey_on_member('a') }}", "Type is not a valid list, set, or dict"},
		{"{{ 1 | vault('pw') }}", "Can only vault strings, instead we got: <class 'int'>"},
		{"{{ 'x' | vault('pw', salt='') }}", "Unable to encrypt: Empty or invalid salt passed to encrypt()"},
		{"{{ 'x' | vault('pw') | unvault('bad') }}", "Unable to decrypt: Decryption failed (no vault secrets were found that could decrypt)"},
		{"{{ '2024-02-30' | to_datetime('%Y-%m-%d') }}", "day is out of range for month"},
		{"{{ '2024-01-02 00:00:00x' | to_datetime }}", "unconverted data remains: x"},
		{"{{ 'x' | to_datetime }}", "time data 'x' does not match format '%Y-%m-%d %H:%M:%S'"},
		{"{{ {} | ipaddr }}", "Unrecognized type <<class 'dict'>> for ipaddr filter <value>"},
		{"{{ '10.0.0.1' | ipaddr('first_usable') }}", "Not a network address"},
		{"{{ '10.0.0.0/24' | ipaddr('peer') }}", "Not a point-to-point network"},
		{"{{ '10.0.0.1' | ipv4('foo') }}", "ipv4: unknown filter type: foo"},
		{"{{ 'x' | ipmath(1) }}", "You must pass a valid IP address; x is invalid"},
		{"{{ '255.255.255.255' | ipmath(1) }}", "result outside valid IP address boundary!"},
		{"{{ '10.0.0.1' | ipmath('a') }}", "argument 'amount' is of type <class 'str'> and we were unable to convert to int"},
		{"{{ '10.0.0.0/24' | ipsubnet(16) }}", "Requested subnet size of 16 is invalid"},
		{"{{ '10.0.0.0/24' | ipsubnet('192.168.0.0/16') }}", "10.0.0.0/24 is not in the subnet 192.168.0.0/16"},
		{"{{ ['x'] | cidr_merge }}", "cidr_merge: error in netaddr:\ninvalid IPNetwork x"},
		{"{{ ['10.0.0.1', '::1'] | cidr_merge('span') }}", "IP sequence cannot contain both IPv4 and IPv6!"},
		// The collection's own failures, which tend reproduces.
		{"{{ '10.0.0.1' | ipaddr('v4') }}", "_ipv4_query() missing 1 required positional argument: 'value'"},
		{"{{ '10.0.0.1' | ipaddr('cidr_lookup') }}", "'iplist'"},
		{"{{ '0.0.0.0/0' | ipaddr('previous_usable') }}", "failed to detect a valid IP address from -1"},
		{"{{ '::/0' | ipsubnet('10.0.0.0/8') }}", "unsupported operand type(s) for <<: 'float' and 'int'"},
	}
	e := New(Options{})
	for _, c := range cases {
		_, err := e.Render(c.src, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.src, err, c.want)
		}
	}
}

// TestPyPow: Go's math.Pow can be units in the last place off glibc's
// correctly rounded pow, which Python's math.pow and ** call.
func TestPyPow(t *testing.T) {
	cases := []struct{ x, y, want float64 }{
		{27, 1.0 / 3, 3.0},
		{125, 1.0 / 3, 4.999999999999999},
		{1000, 1.0 / 3, 9.999999999999998},
		{2, 0.5, math.Sqrt2},
		{10, -2, 0.01},
		{0.1, 3, 0.0010000000000000002},
		{1.1, 7.7, 2.0831650264095276},
	}
	for _, c := range cases {
		if got := pyPow(c.x, c.y); got != c.want {
			t.Errorf("pyPow(%v, %v) = %v, want %v (math.Pow %v)", c.x, c.y, got, c.want, math.Pow(c.x, c.y))
		}
	}
	if got := pyLog(3); got != 1.0986122886681098 {
		t.Errorf("pyLog(3) = %v", got)
	}
}

// TestParseIPNetwork covers netaddr 0.8's lenient reading: partial IPv4
// addresses, masks after the slash, no zones, prefixes in range.
func TestParseIPNetwork(t *testing.T) {
	good := map[string]string{
		"10.1":                      "10.1.0.0/32",
		"010.0.0.1":                 "10.0.0.1/32",
		"192.168.1.5/255.255.255.0": "192.168.1.5/24",
		"192.168.1.5/0.0.0.255":     "192.168.1.5/24",
		"10.0.0.1/08":               "10.0.0.1/8",
		"::ffff:1.2.3.4":            "::ffff:1.2.3.4/128",
		"::1.2.3.4":                 "::1.2.3.4/128",
		"::ffff":                    "::ffff/128",
		"2001:0:0:1:0:0:0:1/64":     "2001:0:0:1::1/64",
	}
	for in, want := range good {
		n, err := parseIPNetwork(in)
		if err != nil || n.String() != want {
			t.Errorf("parseIPNetwork(%q) = %v, %v; want %s", in, n, err, want)
		}
	}
	for _, in := range []string{"fe80::1%eth0", "1.2.3.4/33", "300.1.1.1", "1.2.3.4.5", "x", "10.0.0.0/255.0.255.0", "::1/129"} {
		if n, err := parseIPNetwork(in); err == nil {
			t.Errorf("parseIPNetwork(%q) = %v, want an error", in, n)
		}
	}
}

// TestWinPathsAndURLDecode covers ntpath's drive and UNC handling and
// unquote_plus's malformed escapes.
func TestWinPathsAndURLDecode(t *testing.T) {
	for in, want := range map[string][2]string{
		`C:\x\y`:            {`C:`, `\x\y`},
		`\\srv\share\dir\f`: {`\\srv\share`, `\dir\f`},
		`//?/UNC/a/b/c`:     {`//?/UNC/a/b`, `/c`},
		`\\a`:               {`\\a`, ``},
		`a/b/`:              {``, `a/b/`},
		`c:`:                {`c:`, ``},
		`\\.\dev\x`:         {`\\.\dev`, `\x`},
		``:                  {``, ``},
	} {
		if d, r := ntSplitdrive(in); d != want[0] || r != want[1] {
			t.Errorf("ntSplitdrive(%q) = %q, %q; want %q", in, d, r, want)
		}
	}
	if d, b := ntSplit(`C:\`); d != `C:\` || b != "" {
		t.Errorf("ntSplit(C:\\) = %q, %q", d, b)
	}
	if got := unquotePlus("a+b%2B%zz%e9%C3%A9"); got != "a b+%zz\uFFFDé" {
		t.Errorf("unquotePlus = %q", got)
	}
}

// TestVaultFilterRoundTrip: the vault filter's text is ansible-vault's
// format (1.2 header naming the vault id) and decrypts with pkg/vault.
func TestVaultFilterRoundTrip(t *testing.T) {
	e := New(Options{})
	out, err := e.Render("{{ 'top secret' | vault('pw', vaultid='prod') }}", nil)
	if err != nil {
		t.Fatal(err)
	}
	text := out.(string)
	if !strings.HasPrefix(text, "$ANSIBLE_VAULT;1.2;AES256;prod\n") {
		t.Fatalf("header: %q", text)
	}
	plain, err := vault.Decrypt([]byte(text), []byte("pw"))
	if err != nil || string(plain) != "top secret" {
		t.Fatalf("decrypt: %q, %v", plain, err)
	}
}
