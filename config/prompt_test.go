package config

import "testing"

// TestProxySwitches: [proxy] stale_prompt and thin_server_acks default to
// true and can be turned on or off; a value that is not a boolean is a
// clear error.
func TestProxySwitches(t *testing.T) {
	for _, sw := range []struct {
		key string
		get func(*Config) bool
	}{
		{"stale_prompt", func(c *Config) bool { return c.Proxy.StalePrompt }},
		{"thin_server_acks", func(c *Config) bool { return c.Proxy.ThinServerAcks }},
	} {
		for _, tc := range []struct {
			name, extra string
			want        bool
		}{
			{"default", "", true},
			{"on", "[proxy]\n" + sw.key + " = true\n", true},
			{"off", "[proxy]\n" + sw.key + " = false\n", false},
		} {
			c, err := Parse("s.toml", []byte(minimal+tc.extra))
			if err != nil {
				t.Fatalf("%s %s: %v", sw.key, tc.name, err)
			}
			if got := sw.get(c); got != tc.want {
				t.Errorf("%s %s: %v, want %v", sw.key, tc.name, got, tc.want)
			}
		}
		if _, err := Parse("s.toml", []byte(minimal+"[proxy]\n"+sw.key+" = \"yes\"\n")); err == nil {
			t.Errorf("%s = \"yes\" accepted", sw.key)
		}
	}
}
