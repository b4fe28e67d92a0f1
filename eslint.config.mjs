// ESLint (npm test's "lint JavaScript" stage): the page's modules run in the browser, the tests
// and build scripts in Node. The recommended rules, plus the ones this project relies on: user
// text reaches the DOM only through textContent and attributes (no innerHTML, outerHTML,
// insertAdjacentHTML or document.write), and nothing is evaluated from a string.
import js from '@eslint/js';
import globals from 'globals';

const noHtmlSinks = {
  'no-restricted-properties': ['error',
    { property: 'innerHTML', message: 'User text reaches the DOM only through textContent or attributes.' },
    { property: 'outerHTML', message: 'User text reaches the DOM only through textContent or attributes.' },
    { property: 'insertAdjacentHTML', message: 'User text reaches the DOM only through textContent or attributes.' },
    { object: 'document', property: 'write', message: 'User text reaches the DOM only through textContent or attributes.' },
  ],
  'no-eval': 'error',
  'no-implied-eval': 'error',
  'no-new-func': 'error',
};

export default [
  { ignores: ['www/pkg/**', 'www/bundle/**', 'www/vendor/**', 'dist/**', 'target/**', 'node_modules/**', '.venv/**', '**/*.tmp.mjs'] },
  js.configs.recommended,
  // A panel's mount(container, ctx) keeps its signature even when it needs no context: _ctx.
  { rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }] } },
  {
    files: ['www/**/*.js', 'www/**/*.mjs'],
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: { ...globals.browser } },
    rules: { ...noHtmlSinks },
  },
  {
    files: ['tests/**/*.mjs', '.ci/**/*.mjs', '*.mjs'],
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: { ...globals.node, ...globals.browser } },
  },
];
