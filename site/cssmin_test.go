package site

import "testing"

func TestStripCSSComments(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"a { color: red; } /* note */ b {}", "a { color: red; }  b {}"},
		{"/* one\n two */a{}", "a{}"},
		{`a::before { content: "/* not a comment */"; }`, `a::before { content: "/* not a comment */"; }`},
		{`a::before { content: '\'/*'; } /*x*/`, `a::before { content: '\'/*'; } `},
		{"a{} /* never closed", "a{} "},
		{"a { b: 1/2; }", "a { b: 1/2; }"},
	} {
		if got := string(stripCSSComments([]byte(tt.in))); got != tt.want {
			t.Errorf("stripCSSComments(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
