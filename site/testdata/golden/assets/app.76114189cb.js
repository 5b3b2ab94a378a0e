// fixture playground.js
