package cli

import "testing"

// TestParseBool follows PostgreSQL's parse_bool (bool.c): the words, any
// case, surrounding spaces, unique prefixes (o alone is not one), 1 and 0.
func TestParseBool(t *testing.T) {
	for _, tc := range []struct {
		in        string
		value, ok bool
	}{
		{"true", true, true}, {"TRUE", true, true}, {"True", true, true}, {"t", true, true}, {"tr", true, true}, {"tru", true, true},
		{"yes", true, true}, {"YES", true, true}, {"y", true, true}, {"ye", true, true},
		{"on", true, true}, {"ON", true, true}, {"1", true, true}, {" on ", true, true},
		{"false", false, true}, {"FALSE", false, true}, {"f", false, true}, {"fal", false, true},
		{"no", false, true}, {"No", false, true}, {"n", false, true},
		{"off", false, true}, {"OFF", false, true}, {"of", false, true}, {"0", false, true}, {"\toff\n", false, true},
		{"", false, false}, {" ", false, false}, {"o", false, false}, {"banana", false, false},
		{"2", false, false}, {"01", false, false}, {"10", false, false}, {"-1", false, false},
		{"truee", false, false}, {"yess", false, false}, {"offf", false, false}, {"onn", false, false},
		{"tru e", false, false}, {"enable", false, false}, {"nope", false, false},
	} {
		value, ok := parseBool(tc.in)
		if value != tc.value || ok != tc.ok {
			t.Errorf("parseBool(%q) = %v, %v; want %v, %v", tc.in, value, ok, tc.value, tc.ok)
		}
	}
}

// TestSettingKinds: every flag of the commands that connect has the kind
// its value is checked as; a new string flag that is a duration or a size
// must be listed in durationSettings or sizeSettings.
func TestSettingKinds(t *testing.T) {
	want := map[string]settingKind{
		"dsn": kindString, "where": kindStrings, "param": kindStrings, "arg": kindStrings, "argjson": kindStrings,
		"limit": kindInt, "offset": kindInt, "chunk-size": kindInt, "jq-workers": kindInt, "count": kindInt,
		"stats": kindBool, "quiet": kindBool, "verbose": kindBool, "raw-output": kindBool, "json": kindBool,
		"connect-timeout": kindDuration, "statement-timeout": kindDuration, "idle-timeout": kindDuration,
		"max-row-size": kindSize, "output": kindString, "order-by": kindString,
	}
	for name, kind := range want {
		f := profileSetting(name)
		if f == nil {
			t.Errorf("%s: not a setting", name)
			continue
		}
		if got := kindOf(f); got != kind {
			t.Errorf("%s: kind %d, want %d", name, got, kind)
		}
	}
}
