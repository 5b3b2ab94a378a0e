// html-validate configuration for the live DOM of a page after the
// playground built its editors and ran (document.documentElement.outerHTML).
const base = require("./htmlvalidate.cjs");
module.exports = {
  ...base,
  rules: {
    ...base.rules,
    // outerHTML writes every boolean attribute as name="" (defer="",
    // hidden=""): the serializer's spelling, not our markup's.
    "attribute-boolean-style": "off",
    "attribute-empty-style": "off",
    // The style attributes in the live DOM are CSS custom properties that
    // playground.js sets through the CSSOM (error marks, timeline ticks),
    // which the CSP allows; the built pages, validated with this rule on,
    // have none.
    "no-inline-style": "off",
  },
};
