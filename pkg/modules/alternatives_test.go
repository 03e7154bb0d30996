package modules

import "testing"

func TestParseAltDisplay(t *testing.T) {
	out := `editor - manual mode
  link best version is /bin/nano
  link currently points to /usr/bin/vim.tiny
  link editor is /usr/bin/editor
  slave editor.1.gz is /usr/share/man/man1/editor.1.gz
/bin/nano - priority 40
  slave editor.1.gz: /usr/share/man/man1/nano.1.gz
/usr/bin/vim.tiny - priority 15
  slave editor.1.gz: (null)
`
	d := parseAltDisplay(out, nil)
	if d == nil || d.mode != "manual" || d.current != "/usr/bin/vim.tiny" || d.link != "/usr/bin/editor" {
		t.Fatalf("display: %+v", d)
	}
	nano := d.alts["/bin/nano"]
	if nano.priority != 40 || len(nano.subs) != 1 || nano.subs[0] != (altSub{"editor.1.gz", "/usr/share/man/man1/nano.1.gz", "/usr/share/man/man1/editor.1.gz"}) {
		t.Errorf("nano: %+v", nano)
	}
	if vim := d.alts["/usr/bin/vim.tiny"]; vim.priority != 15 || len(vim.subs) != 0 {
		t.Errorf("vim: %+v", vim)
	}
	if parseAltDisplay("", nil) != nil {
		t.Error("unknown group parsed")
	}
	if !altSubsEqual([]altSub{{"a", "b", "c"}}, []altSub{{"a", "b", "c"}}) || altSubsEqual([]altSub{{"a", "b", "c"}}, nil) {
		t.Error("altSubsEqual")
	}
}
