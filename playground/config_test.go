package playground

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{}, DefaultConfig(), {RateLimit: -1}} {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", c, err)
		}
	}
	err := Config{MaxBuilds: -1, RunTimeout: -time.Second, RateLimit: math.NaN()}.Validate()
	for _, want := range []string{"MaxBuilds must not be negative", "RunTimeout must not be negative", "RateLimit is NaN"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to say %q", err, want)
		}
	}
	if _, err := NewServer(Config{Runners: -3, DataDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "Runners") {
		t.Errorf("NewServer with Runners -3: err = %v", err)
	}
}

// TestConfigDefaults: zero fields take DefaultConfig's values, set ones
// are kept.
func TestConfigDefaults(t *testing.T) {
	c := Config{DataDir: "/x", Runners: 3, RunTimeout: time.Minute}
	if err := c.setDefaults(); err != nil {
		t.Fatal(err)
	}
	d := DefaultConfig()
	if c.Runners != 3 || c.RunTimeout != time.Minute || c.DataDir != "/x" {
		t.Errorf("set fields changed: %+v", c)
	}
	if c.MaxBuilds != d.MaxBuilds || c.Queue != d.Queue || c.RunMemory != d.RunMemory || c.RateLimit != d.RateLimit ||
		c.RateBurst != d.RateBurst || c.CompileTimeout != d.CompileTimeout || c.RunCPUs != d.RunCPUs || c.Logger == nil {
		t.Errorf("zero fields not defaulted: %+v", c)
	}
}
