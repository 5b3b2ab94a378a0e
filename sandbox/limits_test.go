package sandbox

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestLimitsDefaultsAndValidate: zero fields take DefaultLimits' values,
// set ones stay, and a negative limit is refused before anything starts.
func TestLimitsDefaultsAndValidate(t *testing.T) {
	got := Limits{Memory: 1 << 20}.withDefaults()
	want := DefaultLimits()
	want.Memory = 1 << 20
	if got != want {
		t.Errorf("withDefaults = %+v, want %+v", got, want)
	}
	if err := (Limits{}).Validate(); err != nil {
		t.Errorf("zero limits: %v", err)
	}
	err := Limits{Memory: -1, QuitGrace: -1}.Validate()
	if !errors.Is(err, errSpec) || !strings.Contains(err.Error(), "Memory") || !strings.Contains(err.Error(), "QuitGrace") {
		t.Errorf("negative limits: %v, want both named", err)
	}
	// Start checks them first: this Sandbox was never set up.
	if _, err := (&Sandbox{}).Start(context.Background(), Spec{Path: "/bin/true", Limits: Limits{Pids: -5}}); !errors.Is(err, errSpec) {
		t.Errorf("Start with a negative limit: %v, want an invalid spec", err)
	}
}
