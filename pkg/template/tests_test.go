package template

import (
	"os"
	"path/filepath"
	"testing"
)

func TestJinjaTests(t *testing.T) {
	runCases(t, []renderCase{
		{"defined", "{{ a is defined }}", true},
		{"undefined", "{{ a is undefined }}", false},
		{"none", "{{ n is none }} {{ a is none }}", "True False"},
		{"undefined is not none", "{{ nope is none }}", false},
		{"truthy falsy", "{{ 'x' is truthy }} {{ '' is falsy }} {{ l is truthy }}", "True True True"},
		{"truthy convert_bool", "{{ 'no' is truthy(convert_bool=true) }}", false},
		{"version lt", "{{ '1.2.3' is version('1.10', '<') }}", true},
		{"version ge", "{{ '2.0' is version('2.0', '>=') }}", true},
		{"version named ops", "{{ '1.0' is version('2.0', 'lt') }} {{ '1.0' is version('1.0', 'eq') }} {{ '1.0' is version('1.0', 'ne') }}", "True True False"},
		{"version gt ge le", "{{ '1.10' is version('1.9', 'gt') }} {{ '1.0' is version('1.0', 'ge') }} {{ '1.1' is version('1.0', 'le') }}", "True True False"},
		{"version default eq", "{{ '1.0' is version('1.0') }}", true},
		{"version strict", "{{ '1.2.3' is version('1.2.4', '<', strict=true) }}", true},
		{"version not with kwargs", "{{ '1.2.3' is not version('1.2.4', '<', strict=true) }}", false},
		{"kwargs test on undefined", "{{ nope is not defined }}", true},
		{"version_compare alias", "{{ '1.0' is version_compare('0.9', '>') }}", true},
		{"version with letters", "{{ '1.0rc1' is version('1.0', '>') }}", true},
		{"match anchored", "{{ 'foobar' is match('foo') }} {{ 'foobar' is match('bar') }}", "True False"},
		{"search", "{{ 'foobar' is search('bar') }}", true},
		{"regex", "{{ 'foobar' is regex('o+b') }}", true},
		{"regex match_type", "{{ 'foobar' is regex('foo', match_type='fullmatch') }}", false},
		{"match ignorecase", "{{ 'FOO' is match('foo', ignorecase=true) }}", true},
		{"in test", "{{ 2 is in l }}", true},
		{"contains", "{{ l is contains 2 }} {{ sl is contains('z') }}", "True False"},
		{"string number", "{{ b is string }} {{ a is number }} {{ fl is number }} {{ b is number }}", "True True True False"},
		{"integer float", "{{ a is integer }} {{ fl is float }} {{ a is float }}", "True True False"},
		{"mapping iterable sequence", "{{ m is mapping }} {{ l is iterable }} {{ b is sequence }} {{ a is iterable }}", "True True True False"},
		{"boolean", "{{ t is boolean }} {{ 'true' is boolean }}", "True False"},
		{"changed", "{{ res_changed is changed }} {{ res_failed is changed }} {{ res_loop is changed }}", "True False True"},
		{"change alias", "{{ res_changed is change }}", true},
		{"failed", "{{ res_failed is failed }} {{ res_changed is failed }} {{ res_failed is failure }}", "True False True"},
		{"succeeded", "{{ res_changed is succeeded }} {{ res_failed is success }} {{ res_changed is successful }}", "True False True"},
		{"skipped", "{{ res_skipped is skipped }} {{ res_changed is skip }}", "True False"},
		{"not failed", "{{ res_changed is not failed }}", true},
		{"subset superset", "{{ [1, 2] is subset(l) }} {{ l is superset([3]) }} {{ [9] is subset(l) }}", "True True False"},
		{"nan", "{{ 'bad' is nan }} {{ 1.1 | float is nan }} {{ 'nan' | float is nan }} {{ 'nan' | float is isnan }} {{ 3 is not nan }}", "False False True True True"},
		{"equalto eq sameas", "{{ a is equalto 1 }} {{ a is eq(1) }} {{ t is sameas true }} {{ 1 is sameas true }}", "True True True False"},
		{"comparison tests", "{{ a is lt 2 }} {{ a is gt 0 }} {{ a is ge 1 }} {{ a is le 0 }} {{ a is ne 1 }}", "True True True False False"},
		{"odd even divisibleby", "{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }}", "True True True"},
		{"lower upper", "{{ 'abc' is lower }} {{ 'ABC' is upper }}", "True True"},
		{"abs path", "{{ '/etc' is abs }} {{ 'etc' is abs }}", "True False"},
		{"file directory exists", "{{ 'plain.txt' is file }} {{ 'files' is directory }} {{ 'nope' is exists }} {{ '/etc' is directory }}", "True True False True"},
		{"not defined precedence", "{{ nope is not defined and a == 1 }}", true},
	})
}

func TestLinkTest(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	e := New(Options{BaseDir: dir})
	got, err := e.Render("{{ 'link' is link }} {{ 'target' is link }} {{ 'link' is file }}", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != "True False True" {
		t.Errorf("link tests = %q", got)
	}
}
