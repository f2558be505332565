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

// TestThinServerAcks: [proxy] thin_server_acks defaults to true and can
// be turned off; a value that is not a boolean is a clear error.
func TestThinServerAcks(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		want        bool
	}{
		{"default", "", true},
		{"off", "[proxy]\nthin_server_acks = false\n", false},
	} {
		c, err := Parse("s.toml", []byte(minimal+tc.extra))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.Proxy.ThinServerAcks != tc.want {
			t.Errorf("%s: ThinServerAcks %v, want %v", tc.name, c.Proxy.ThinServerAcks, tc.want)
		}
	}
	if _, err := Parse("s.toml", []byte(minimal+"[proxy]\nthin_server_acks = 1\n")); err == nil {
		t.Errorf("thin_server_acks = 1 accepted")
	}
}
