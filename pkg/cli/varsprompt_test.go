package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tend-dev/tend/pkg/playbook"
)

// TestVarPrompterWithoutTerminal: without a terminal on stdin (cron, CI)
// nobody is asked, nothing is read and nothing is printed, so the play
// takes the default, as ansible-playbook does.
func TestVarPrompterWithoutTerminal(t *testing.T) {
	stdin := strings.NewReader("typed\n")
	var stderr bytes.Buffer
	answer, ok, err := varPrompter(stdin, &stderr)(context.Background(), playbook.VarPrompt{Name: "x", Prompt: "Which?"})
	if err != nil || ok || answer != "" {
		t.Fatalf("got %q, %v, %v; want nobody asked", answer, ok, err)
	}
	if stdin.Len() != len("typed\n") || stderr.Len() != 0 {
		t.Fatalf("read %d bytes of stdin and printed %q; want neither", len("typed\n")-stdin.Len(), stderr.String())
	}
}
