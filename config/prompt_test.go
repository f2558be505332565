package config

import "testing"

// TestStalePrompt: [proxy] stale_prompt defaults to true and can be
// turned off; a value that is not a boolean is a clear error.
func TestStalePrompt(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		want        bool
	}{
		{"default", "", true},
		{"on", "[proxy]\nstale_prompt = true\n", true},
		{"off", "[proxy]\nstale_prompt = false\n", false},
	} {
		c, err := Parse("s.toml", []byte(minimal+tc.extra))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.Proxy.StalePrompt != tc.want {
			t.Errorf("%s: StalePrompt %v, want %v", tc.name, c.Proxy.StalePrompt, tc.want)
		}
	}
	if _, err := Parse("s.toml", []byte(minimal+"[proxy]\nstale_prompt = \"yes\"\n")); err == nil {
		t.Errorf("stale_prompt = \"yes\" accepted")
	}
}
