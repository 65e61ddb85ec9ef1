package cli

// testSettings returns settings holding vals as given on the command line,
// for tests of the functions that read resolved settings.
func testSettings(vals map[string]string) *settings {
	s := &settings{vals: map[string]setting{}}
	for k, v := range vals {
		s.vals[k] = setting{value: v, from: fromFlag}
	}
	return s
}
