// html-validate configuration for the built site (e2e/audit_test.go runs it
// over `playdoc build` output).
module.exports = {
  extends: ["html-validate:recommended"],
  rules: {
    // HTML is case-insensitive here; templ and our golden files write the
    // doctype in lower case, which every validator (and the spec) accepts.
    "doctype-style": "off",
  },
};
