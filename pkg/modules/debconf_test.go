package modules

import "testing"

func TestDebconfDecide(t *testing.T) {
	prev := parseDebconfShow("* locales/default_environment_locale: fr_FR.UTF-8\n  locales/locales_to_be_generated:\n  tzdata/Areas: Europe\n  shared/accepted: true\n")
	if prev["locales/default_environment_locale"] != "fr_FR.UTF-8" || prev["locales/locales_to_be_generated"] != "" || len(prev) != 4 {
		t.Fatalf("parse: %v", prev)
	}
	for _, c := range []struct {
		q, vtype, value string
		want            bool
	}{
		{"locales/default_environment_locale", "select", "fr_FR.UTF-8", false},
		{"locales/default_environment_locale", "select", "en_US.UTF-8", true},
		{"shared/accepted", "boolean", "True", false},
		{"shared/accepted", "string", "True", true},
		{"missing/question", "string", "", true},
	} {
		if got := debconfDiffers(prev, c.q, c.vtype, c.value); got != c.want {
			t.Errorf("%s=%s (%s): differs %v", c.q, c.value, c.vtype, got)
		}
	}
}
