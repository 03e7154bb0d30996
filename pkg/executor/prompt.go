package executor

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/tend-dev/tend/pkg/playbook"
	"github.com/tend-dev/tend/pkg/template"
)

// promptVars asks for the play's vars_prompt variables, as Ansible does
// before a play runs, and returns the play with them among its variables.
// A variable an extra variable sets is not asked for. Nobody to ask (no
// terminal): the default, or the text "None" without one, as
// ansible-playbook gives.
func (r *runner) promptVars(ctx context.Context, play *playbook.Play) (*playbook.Play, error) {
	if len(play.VarsPrompt) == 0 {
		return play, nil
	}
	withAnswers := make(map[string]any, len(play.Vars)+len(play.VarsPrompt))
	maps.Copy(withAnswers, play.Vars)
	for _, vp := range play.VarsPrompt {
		if _, set := r.opts.ExtraVars[vp.Name]; set {
			continue
		}
		if s, ok := vp.Default.(string); ok && template.IsTemplate(s) {
			// Ansible templates a default with the play's variables.
			d, err := r.opts.Templates.Render(s, r.playVars(play))
			if err != nil {
				return nil, fmt.Errorf("%s: vars_prompt %s: default: %w", play.Pos, vp.Name, err)
			}
			vp.Default = d
		}
		v, err := r.promptVar(ctx, vp)
		if err != nil {
			return nil, fmt.Errorf("%s: vars_prompt %s: %w", play.Pos, vp.Name, err)
		}
		withAnswers[vp.Name] = v
	}
	cp := *play
	cp.Vars = withAnswers
	return &cp, nil
}

func (r *runner) promptVar(ctx context.Context, vp playbook.VarPrompt) (any, error) {
	answer, ok := "", false
	if r.opts.Prompt != nil {
		var err error
		if answer, ok, err = r.opts.Prompt(ctx, vp); err != nil {
			return nil, err
		}
	}
	var v any = answer
	switch {
	case answer == "" && vp.Default != nil:
		v = vp.Default
	case !ok:
		// No one asked and no default: ansible-playbook's value is
		// the text of Python's None.
		v = "None"
	}
	// Ansible's to_text: a number default is text too.
	s := fmt.Sprint(v)
	if vp.Encrypt != "" {
		hashed, err := r.opts.Templates.Render("{{ value | password_hash(scheme, salt or None) }}",
			map[string]any{"value": s, "scheme": strings.TrimSuffix(vp.Encrypt, "_crypt"), "salt": vp.Salt})
		if err != nil {
			return nil, fmt.Errorf("encrypt with %s: %w", vp.Encrypt, err)
		}
		s = fmt.Sprint(hashed)
	}
	if vp.Unsafe {
		return template.Unsafe(s), nil
	}
	return s, nil
}
