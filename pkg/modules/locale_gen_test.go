package modules

import "testing"

func TestLocaleGenDecide(t *testing.T) {
	gen := "# This file lists locales\n#  de_CH.UTF-8 UTF-8\n# en_US ISO-8859-1\n# en_US.UTF-8 UTF-8\nfr_FR.UTF-8 UTF-8\n"
	if !localeAvailable(gen, "en_US.UTF-8", false) || localeAvailable(gen, "xx_YY.UTF-8", false) || !localeAvailable(gen, "de_CH.UTF-8", false) {
		t.Error("localeAvailable on locale.gen")
	}
	if localeAvailable("# en_US.UTF-8 UTF-8\n", "en_US.UTF-8", true) {
		t.Error("Ubuntu's SUPPORTED has no commented lines")
	}
	if !localePresent("C\nC.utf8\nen_US.utf8\nPOSIX\n", "en_US.UTF-8") || localePresent("C.utf8\n", "en_US.UTF-8") {
		t.Error("localePresent")
	}
	on := setLocaleLine(gen, "en_US.UTF-8", true)
	want := "# This file lists locales\n#  de_CH.UTF-8 UTF-8\n# en_US ISO-8859-1\nen_US.UTF-8 UTF-8\nfr_FR.UTF-8 UTF-8\n"
	if on != want {
		t.Errorf("enable:\n%s", on)
	}
	if off := setLocaleLine(on, "fr_FR.UTF-8", false); off != "# This file lists locales\n#  de_CH.UTF-8 UTF-8\n# en_US ISO-8859-1\nen_US.UTF-8 UTF-8\n# fr_FR.UTF-8 UTF-8\n" {
		t.Errorf("disable:\n%s", off)
	}
}
