package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInventories checks that every malformed inventory in testdata/bad
// fails with a message naming file and line and saying what was expected.
func TestBadInventories(t *testing.T) {
	tests := []struct {
		source string
		want   string
	}{
		{"range.ini", `range.ini:3: invalid host range "web[01:xx]": expected numbers or letters`},
		{"unknown_section.ini", `unknown_section.ini:2: section [web:foo] has unknown type "foo": expected hosts, vars or children`},
		{"section_spaces.ini", `section_spaces.ini:3: invalid section header [ db ]: expected [group], [group:vars] or [group:children] with no spaces`},
		{"host_var_no_eq.ini", `host_var_no_eq.ini:2: expected key=value host variable after web1, got "foo"`},
		{"vars_no_eq.ini", `vars_no_eq.ini:5: expected key=value in [web:vars], got "noequals"`},
		{"vars_undefined.ini", `vars_undefined.ini:4: section [ghost:vars] is for undefined group ghost: declare it with [ghost] or as a child`},
		{"unclosed_quote.ini", `unclosed_quote.ini:2: cannot parse host line "web1 a=\"x": no closing quotation`},
		{"trailing_colon.ini", `trailing_colon.ini:2: invalid host pattern "web1:": a trailing ':' must be followed by a port number`},
		{"child_loop.ini", `child_loop.ini:4: adding group a as child to b creates a recursive dependency loop`},
		{"children_name.ini", `children_name.ini:2: expected a group name in [a:children], got "b c"`},
		{"vaulted.ini", `vaulted.ini:1: inventory file is vault-encrypted but no vault password was given: pass --vault-password-file or --ask-vault-pass`},
		{"script", `script:1: dynamic inventory scripts are not supported; export the inventory to YAML with ansible-inventory --list -y`},
		{"yaml_syntax.yml", `yaml_syntax.yml:1: invalid YAML: did not find expected key`},
		{"yaml_hosts_list.yml", `yaml_hosts_list.yml:3:5: invalid "hosts" entry for group "all": expected a dictionary, got a list`},
		{"yaml_top_list.yml", `yaml_top_list.yml:1:1: YAML inventory has invalid structure: expected a dictionary of groups, got a list`},
		{"yaml_host_vars_scalar.yml", `yaml_host_vars_scalar.yml:5:15: invalid variables for host web1: expected a dictionary, got an integer`},
		{"yaml_range.yml", `yaml_range.yml:3:5: invalid host range "web[1:x]": expected numbers or letters`},
		{"yaml_plugin.yml", `yaml_plugin.yml:1:1: inventory plugin configuration files (plugin: amazon.aws.aws_ec2) are not supported`},
		{"yaml_inline_vault.yml", `yaml_inline_vault.yml:3:13: value is vault-encrypted but no vault password was given: pass --vault-password-file or --ask-vault-pass`},
		{"yaml_unknown_tag.yml", `yaml_unknown_tag.yml:4:13: unknown YAML tag !custom`},
		{"gvars/hosts", `gvars/group_vars/web.yml:1:1: vars file must hold a dictionary of variables, got a list`},
		{"yaml_alias_cycle.yml", `yaml_alias_cycle.yml:4:9: alias *v refers to the value that contains it (anchor &v at line 2), which would repeat without end; copy the values you need instead`},
		{"aliasvars/hosts", `aliasvars/group_vars/all.yml:7:15: aliases expand to more than 1048576 values (alias *l5 here); a document whose anchors refer to each other over and over is refused`},
		{"vaultvars/hosts", `vaultvars/host_vars/web1.yml:1: vars file is vault-encrypted but no vault password was given: pass --vault-password-file or --ask-vault-pass`},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[strings.Split(tt.source, "/")[0]] = true
		t.Run(tt.source, func(t *testing.T) {
			src := filepath.Join("testdata", "bad", tt.source)
			inv, err := Load([]string{src})
			if err == nil {
				t.Fatalf("Load(%s) succeeded with %d hosts, want error %q", src, len(inv.Hosts()), tt.want)
			}
			want := filepath.Join("testdata", "bad") + "/" + tt.want
			if err.Error() != want {
				t.Errorf("Load(%s) error:\n got  %s\n want %s", src, err, want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line == 0 {
				t.Errorf("error %v is not a *ParseError with a line", err)
			}
			if strings.Contains(tt.want, "vault") && !errors.Is(err, ErrVaultEncrypted) {
				t.Errorf("error %v does not wrap ErrVaultEncrypted", err)
			}
		})
	}
	// Every file in testdata/bad must be covered by the table.
	entries, err := os.ReadDir(filepath.Join("testdata", "bad"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !seen[e.Name()] {
			t.Errorf("testdata/bad/%s has no expected error in the table", e.Name())
		}
	}
}
