// Reads [{notebook, cell, text}, ...] as JSON on stdin; typesets every formula of every text
// with MathJax 3's TeX input (all packages but noerrors/noundefined, so that errors surface);
// prints [{notebook, cell, formula, error}, ...] as JSON. A `$` outside every formula is an error.
const {mathjax} = require('mathjax-full/js/mathjax.js');
const {TeX} = require('mathjax-full/js/input/tex.js');
const {liteAdaptor} = require('mathjax-full/js/adaptors/liteAdaptor.js');
const {RegisterHTMLHandler} = require('mathjax-full/js/handlers/html.js');
const {AllPackages} = require('mathjax-full/js/input/tex/AllPackages.js');

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
const SKIP = new Set(['noerrors', 'noundefined', 'bussproofs']);

function check(item) {
  const errors = [];
  let current = '';
  const tex = new TeX({
    packages: AllPackages.filter((p) => !SKIP.has(p)),
    inlineMath: [['$', '$'], ['\\(', '\\)']],
    displayMath: [['$$', '$$'], ['\\[', '\\]']],
    processEscapes: true,
    formatError: (jax, err) => {
      errors.push({notebook: item.notebook, cell: item.cell, formula: current, error: err.message});
      return jax.formatError(err);
    },
  });
  const escaped = item.text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const doc = mathjax.document(`<div>${escaped}</div>`, {InputJax: tex});
  doc.findMath();
  const found = Array.from(doc.math);
  for (const math of found) {
    current = math.math;
    math.compile(doc);
  }
  // Anything left outside the found formulas must not hold an unescaped `$`.
  let rest = item.text;
  const spans = found.map((m) => [m.start.n, m.end.n]).sort((a, b) => b[0] - a[0]);
  for (const [s, e] of spans) rest = rest.slice(0, s) + ' ' + rest.slice(e);
  const stray = rest.match(/(^|[^\\])\$/g);
  if (stray) {
    errors.push({notebook: item.notebook, cell: item.cell, formula: '$',
                 error: `${stray.length} unmatched $ outside every formula`});
  }
  return errors;
}

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const items = JSON.parse(input);
  const errors = items.flatMap(check);
  process.stdout.write(JSON.stringify({checked: items.length, errors}));
});
