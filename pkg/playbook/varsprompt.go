package playbook

import (
	"gopkg.in/yaml.v3"

	"github.com/tend-dev/tend/pkg/vars"
)

// VarPrompt is one entry of a play's vars_prompt: a play variable asked
// for before the play runs, unless an extra variable already sets it.
type VarPrompt struct {
	Name   string
	Prompt string // the question; empty: Ansible's "input for NAME"
	// Default is the value when nothing is typed, or nothing can be read
	// (no terminal); nil when not given.
	Default  any
	Private  bool // input not echoed (the default)
	Confirm  bool // asked twice, until both answers match
	Encrypt  string
	Salt     string
	SaltSize int
	Unsafe   bool // the value is data, never templated
}

// varsPrompt decodes vars_prompt: a list of mappings, or Ansible's older
// mapping of names to questions.
func (d *playDecode) varsPrompt(_, v *yaml.Node) {
	switch v.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(v.Content); i += 2 {
			d.p.VarsPrompt = append(d.p.VarsPrompt, VarPrompt{Name: v.Content[i].Value, Prompt: d.l.str(d.file, v.Content[i+1]), Private: true})
		}
	case yaml.SequenceNode:
		for _, e := range v.Content {
			if p, ok := d.varPrompt(e); ok {
				d.p.VarsPrompt = append(d.p.VarsPrompt, p)
			}
		}
	default:
		d.l.errs.at(d.file, v, "", "vars_prompt must be a list of mappings with name: and prompt:")
	}
}

func (d *playDecode) varPrompt(n *yaml.Node) (VarPrompt, bool) {
	p := VarPrompt{Private: true}
	if n.Kind != yaml.MappingNode {
		d.l.errs.at(d.file, n, "", "a vars_prompt entry must be a mapping with name: and prompt:")
		return p, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "name":
			p.Name = d.l.str(d.file, v)
		case "prompt":
			p.Prompt = d.l.str(d.file, v)
		case "default":
			p.Default = d.l.value(d.file, v)
		case "private", "confirm", "unsafe":
			b, err := vars.Boolean(d.l.value(d.file, v))
			if err != nil {
				d.l.errs.at(d.file, v, "", "vars_prompt %s: %v", k.Value, err)
			}
			switch k.Value {
			case "private":
				p.Private = b
			case "confirm":
				p.Confirm = b
			default:
				p.Unsafe = b
			}
		case "encrypt":
			p.Encrypt = d.l.str(d.file, v)
		case "salt":
			p.Salt = d.l.str(d.file, v)
		case "salt_size":
			if n, ok := d.l.value(d.file, v).(int); ok {
				p.SaltSize = n
			} else {
				d.l.errs.at(d.file, v, "", "vars_prompt salt_size must be an integer")
			}
		default:
			d.l.warnAt(d.file, k, "vars_prompt takes name, prompt, default, private, confirm, encrypt, salt, salt_size and unsafe", "unknown vars_prompt key %q", k.Value)
		}
	}
	if p.Name == "" {
		d.l.errs.at(d.file, n, "", "a vars_prompt entry needs a name")
		return p, false
	}
	return p, true
}
