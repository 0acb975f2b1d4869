#!/usr/bin/env node
// Builds the script-tag bundle of <sealchat-widget> into packages/widget/dist/cdn/:
//   sealchat-widget.js  the launcher: what loads before the first click (pin it with SRI in your tag)
//   sealchat-panel.js   the chat itself: Lit, the client, the crypto; loaded on first interaction
//   sealchat-locale-xx.js  the UI strings of one language, as an array of values; loaded when chosen
// Each file's SRI hash is compiled into the file that loads it (locales into the panel, the panel
// into the launcher), which fetches it through an integrity-checked <link rel=modulepreload>:
// pinning the launcher pins the whole widget. So the locales are built first, then the panel.
// Then it checks the size budgets (../shared/BRIEF.md §Budgets) and fails the build when they are
// exceeded. With --report it also writes the sizes into docs/benchmarks.md.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { minify } from 'terser';
import ts from 'typescript';
import { build } from 'vite';

// ../shared/BRIEF.md §Budgets: the launcher (what loads before the first click) ≤ 10 KB gzip, and
// everything the visitor side needs (launcher, panel, crypto, largest locale) ≤ 40 KB gzip.
const LAUNCHER_BUDGET = 10 * 1024;
// --sourcemaps: also write .map files (to see where the bytes go); the sizes then include the
// sourceMappingURL comment, so budgets are only meaningful without it.
const SOURCEMAPS = process.argv.includes('--sourcemaps');
const TOTAL_BUDGET = 40 * 1024;

const root = resolve(import.meta.dirname, '..');
const src = resolve(root, 'packages/widget/src');
const outDir = resolve(root, 'packages/widget/dist/cdn');

/**
 * Minifies the CSS text in our `*-styles.ts` modules (plain template literals without
 * interpolations): comments and whitespace go, nothing else changes.
 */
const minifyStyles = {
  name: 'sealchat-minify-styles',
  transform(code, id) {
    if (!/[\\/]packages[\\/](widget|agent)[\\/]src[\\/][\w-]*styles\.ts$/.test(id)) return undefined;
    return code.replace(/`([^`$]*)`/g, (_, css) => {
      const min = css
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\s+/g, ' ')
        .replace(/ ?([{}:;,>]) ?/g, '$1')
        .replace(/;}/g, '}')
        .replace(/ !important/g, '!important')
        .replace(/\[([\w-]+)='([\w-]+)'\]/g, '[$1=$2]')
        .replace(/([:,( ])0\.(\d)/g, '$1.$2')
        .trim();
      return `\`${min}\``;
    });
  },
};

/**
 * @hpke/common's Deno-to-Node shim wraps globalThis in a Proxy merged with an empty object: the same
 * as globalThis itself, for 0.6 KB. Browsers get globalThis directly.
 */
const hpkeShim = {
  name: 'sealchat-hpke-shim',
  load(id) {
    return /@hpke[\\/]common[\\/]esm[\\/]_dnt\.shims\.js$/.test(id)
      ? 'export const dntGlobalThis = globalThis;'
      : undefined;
  },
};

/**
 * Property names that start with `_` and a letter are mangled (shortened by terser) in every file of
 * this build, as Lit's build does: @hpke's internals (`_api`, `_kdf`, `_setup`…) and the private
 * members of the visitor side's classes, which are named `_like` this for it. A mangled name differs
 * from one build, and one file, to the next, so it must never reach anything stored, posted to another
 * tab or read by another file: {@link checkMangledNames} fails the build when our code uses such a
 * name other than as a private or protected class member.
 */
const MANGLED = /^_[A-Za-z]/;

/**
 * The build error for each use in one of our modules of a {@link MANGLED} name that could outlive
 * the file: an object key (or destructured one), a public class member, a string used as a key.
 */
function checkMangledNames(code, id) {
  const file = ts.createSourceFile(id, code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const problems = [];
  const mangled = (name) => {
    const key = name && ts.isComputedPropertyName(name) ? name.expression : name;
    return !!key && (ts.isIdentifier(key) || ts.isStringLiteralLike(key)) && MANGLED.test(key.text);
  };
  const report = (node, what) =>
    problems.push(`${id}:${file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1}: ${what}`);
  const visit = (node) => {
    if (ts.isObjectLiteralExpression(node)) {
      for (const p of node.properties) if (mangled(p.name)) report(p, `object key ${p.name.getText(file)}`);
    } else if (ts.isBindingElement(node) && ts.isObjectBindingPattern(node.parent)) {
      if (mangled(node.propertyName ?? node.name)) report(node, 'destructured key starting with _');
    } else if (
      (ts.isClassElement(node) || ts.isParameterPropertyDeclaration(node, node.parent)) &&
      mangled(node.name) &&
      !(ts.getCombinedModifierFlags(node) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected))
    ) {
      report(node, `public member ${node.name.getText(file)}`);
    } else if (ts.isElementAccessExpression(node) && mangled(node.argumentExpression)) {
      report(node, `element access [${node.argumentExpression.getText(file)}]`);
    } else if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.InKeyword &&
      mangled(node.left)
    ) {
      report(node, `${node.left.getText(file)} in`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return problems.map((p) => `${p}: a name the build mangles (${MANGLED}) must stay a private or protected member`);
}

const mangledNames = {
  name: 'sealchat-mangled-names',
  // Before the TypeScript is compiled away: `private` is what the check looks for.
  enforce: 'pre',
  transform(code, id) {
    if (/[\\/]node_modules[\\/]/.test(id) || !/\.ts$/.test(id)) return undefined;
    const problems = checkMangledNames(code, id);
    if (problems.length > 0) this.error(problems.join('\n'));
    return undefined;
  },
};

/**
 * Two rewrites of @hpke's Deno-built code, each with exactly the same effect, for 4.5 KB (275 B gzip)
 * less in the panel:
 * - Each class field is a spelled-out `Object.defineProperty(this, "name", { enumerable: true,
 *   configurable: true, writable: true, value })`, about 50 in the panel; `defineFields(this,
 *   { name: value })` defines the same property, in an object literal where terser's property
 *   mangler sees the name.
 * - Its `_`-prefixed members (private by convention, never on anything of ours) are {@link MANGLED};
 *   the build fails if @hpke has a string that could name one at run time.
 * (Sharing their three copies of tslib's private-field helpers was measured too: 27 B gzip more.)
 */
const DEFINE_FIELDS = '\0sealchat-define-fields';
const lines = (text) => text.split('\n').length;
const hpkeFields = {
  name: 'sealchat-hpke-fields',
  resolveId: (id) => (id === DEFINE_FIELDS ? id : undefined),
  load: (id) =>
    id === DEFINE_FIELDS
      ? `export const defineFields = (o, fields) => {
          for (const [k, value] of Object.entries(fields))
            Object.defineProperty(o, k, { enumerable: true, configurable: true, writable: true, value });
        };`
      : undefined,
  transform(code, id) {
    if (!/[\\/]@hpke[\\/]/.test(id)) return undefined;
    const next = code.replace(
      /Object\.defineProperty\(this, "([A-Za-z_$][\w$]*)", \{\s*enumerable: true,\s*configurable: true,\s*writable: true,\s*value: ((?:[^\n]|\n(?!\s*\}\);))*?)\s*\}\);/g,
      // Blank lines keep every line where it was: the source maps stay right without one of our own.
      (match, key, value) => `defineFields(this, { ${key}: ${value} });${'\n'.repeat(lines(match) - lines(value))}`,
    );
    const quoted = next.replace(/Object\.defineProperty\(this, "/g, '').match(/["'`]_[A-Za-z][\w$]*["'`]/);
    if (quoted) this.error(`${id} has the string ${quoted[0]}: it would not be mangled with the member it names`);
    return next === code
      ? undefined
      : { code: `${next}\nimport { defineFields } from "${DEFINE_FIELDS}";\n`, map: null };
  },
};

/**
 * A locale module's default-exported object literal (`export default { … } satisfies Strings`): its
 * entries as source text, in order, and where the exported expression starts and ends.
 */
function localeEntries(code, id) {
  const file = ts.createSourceFile(id, code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const exported = file.statements.find(ts.isExportAssignment);
  let object = exported?.expression;
  if (object && ts.isSatisfiesExpression(object)) object = object.expression;
  if (!object || !ts.isObjectLiteralExpression(object)) throw new Error(`${id} does not export an object literal`);
  const entries = object.properties.map((p) => {
    if (!ts.isPropertyAssignment(p) || !ts.isIdentifier(p.name))
      throw new Error(`${id}: not a plain \`key: value\`: ${p.getText(file)}`);
    return [p.name.text, p.initializer.getText(file)];
  });
  return { entries, start: exported.expression.getStart(file), end: exported.expression.getEnd() };
}

/** The keys of Strings in en.ts's order (i18n.test.ts checks every locale has exactly these). */
const STRING_KEYS = localeEntries(readFileSync(resolve(src, 'locales/en.ts'), 'utf8'), 'en.ts').entries.map(([k]) => k);

/**
 * Writes each locale file as an array of its values in {@link STRING_KEYS} order, which the panel
 * gets as `__SEALCHAT_STRING_KEYS__` to put the keys back (i18n.ts, loadPinnedStrings): the keys
 * ship once, not in every file. That is a quarter of a locale file gzipped (285 B of Arabic's 1100),
 * for 150 B in the panel.
 */
const localeArrays = {
  name: 'sealchat-locale-arrays',
  transform(code, id) {
    if (!/[\\/]packages[\\/]widget[\\/]src[\\/]locales[\\/][a-z]{2,3}\.ts$/.test(id)) return undefined;
    const { entries, start, end } = localeEntries(code, id);
    const values = new Map(entries);
    if (entries.length !== STRING_KEYS.length || STRING_KEYS.some((k) => !values.has(k)))
      this.error(`${id} does not have exactly the keys of en.ts`);
    const array = `[${STRING_KEYS.map((k) => values.get(k)).join(', ')}]`;
    return { code: `${code.slice(0, start)}${array}${code.slice(end)}`, map: null };
  },
};

async function bundle(entry, fileName, options = {}) {
  await build({
    configFile: false,
    logLevel: 'warn',
    root,
    resolve: { conditions: ['source', 'browser', 'production'] },
    plugins: [mangledNames, minifyStyles, hpkeShim, hpkeFields, localeArrays],
    define: { 'process.env.NODE_ENV': '"production"', ...options.define },
    build: {
      outDir,
      emptyOutDir: options.emptyOutDir ?? false,
      minify: true,
      sourcemap: SOURCEMAPS,
      lib: { entry: resolve(src, entry), formats: ['es'], fileName: () => fileName },
      rolldownOptions: {
        // Full minification: Vite's library mode keeps whitespace in ES output (for bundlers downstream), but
        // this file goes straight to browsers.
        output: { codeSplitting: false, minify: true },
        // @hpke/common falls back to `import("crypto")` only where globalThis.crypto is missing (old
        // Node); browsers never take that branch, so it stays a bare import instead of a shim + runtime.
        external: ['crypto', ...(options.external ?? [])],
      },
    },
  });
  // A second pass with terser: its compressor and mangler take a few percent more off than the
  // bundler's own (each byte counts against the visitor-side budget).
  const path = resolve(outDir, fileName);
  const pass = await minify(readFileSync(path, 'utf8'), {
    module: true,
    ecma: 2022,
    compress: { passes: 3 },
    mangle: { properties: { regex: MANGLED } },
    format: { comments: false },
    ...(SOURCEMAPS ? { sourceMap: { content: readFileSync(`${path}.map`, 'utf8'), url: `${fileName}.map` } } : {}),
  });
  writeFileSync(path, pass.code);
  if (SOURCEMAPS) writeFileSync(`${path}.map`, pass.map);
  const bytes = readFileSync(path);
  const integrity = `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
  // Hashes compiled into another file use SHA-256: as strong for SRI, and 16 incompressible bytes
  // shorter each (six of them count against the budget).
  const pinned = `sha256-${createHash('sha256').update(bytes).digest('base64')}`;
  writeFileSync(resolve(outDir, `${fileName}.sri`), `${integrity}\n`);
  return { fileName, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, integrity, pinned };
}

const pin = ({ fileName, pinned }) => ({ file: fileName, integrity: pinned });

// Every src/locales/xx.ts (English is in the panel itself).
const locales = {};
for (const [index, file] of readdirSync(resolve(src, 'locales'))
  .filter((name) => /^[a-z]{2,3}\.ts$/.test(name))
  .sort()
  .entries()) {
  const locale = file.slice(0, -3);
  locales[locale] = await bundle(`locales/${file}`, `sealchat-locale-${locale}.js`, { emptyOutDir: index === 0 });
}
const stringKeys = JSON.stringify(STRING_KEYS);
const localePins = JSON.stringify(Object.fromEntries(Object.entries(locales).map(([locale, b]) => [locale, pin(b)])));
// The npm path's plain imports of the locales are dead code here; never inline them. Both bundles
// get the pins and the string keys, whichever of them ends up importing i18n.ts.
const LOCALE_IMPORTS = /[\\/]locales[\\/]/;

const panel = await bundle('panel-define.ts', 'sealchat-panel.js', {
  define: { __SEALCHAT_LOCALES__: localePins, __SEALCHAT_STRING_KEYS__: stringKeys },
  external: [LOCALE_IMPORTS],
});
const launcher = await bundle('define.ts', 'sealchat-widget.js', {
  define: {
    __SEALCHAT_PANEL__: JSON.stringify(pin(panel)),
    __SEALCHAT_LOCALES__: localePins,
    __SEALCHAT_STRING_KEYS__: stringKeys,
  },
  // The npm path's plain import of the panel is dead code here; never inline it into the launcher.
  external: [/panel-define/, LOCALE_IMPORTS],
});
const largestLocale = Object.values(locales).reduce((a, b) => (b.gzip > a.gzip ? b : a));

const failures = [];
// A bundle that still imports ./locales/ would fetch a file nobody pinned; one that names a locale
// file must carry its hash too.
for (const { fileName } of [panel, launcher]) {
  const code = readFileSync(resolve(outDir, fileName), 'utf8');
  if (/["'`][^"'`]*locales\/[a-z]+\.js/.test(code)) failures.push(`${fileName} imports a locale without its pin`);
  for (const locale of Object.values(locales)) {
    if (code.includes(locale.fileName) && !code.includes(locale.pinned))
      failures.push(`${fileName} loads ${locale.fileName} without its integrity hash`);
  }
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
// A visitor downloads exactly one locale file (English is one too): count the largest.
const total = launcher.gzip + panel.gzip + largestLocale.gzip;
const totalBytes = launcher.bytes + panel.bytes + largestLocale.bytes;
console.log(
  `widget launcher: packages/widget/dist/cdn/${launcher.fileName}  ${launcher.bytes} B, ${launcher.gzip} B gzip`,
);
console.log(`widget panel:    packages/widget/dist/cdn/${panel.fileName}  ${panel.bytes} B, ${panel.gzip} B gzip`);
for (const locale of Object.values(locales)) {
  console.log(`widget locale:   packages/widget/dist/cdn/${locale.fileName}  ${locale.bytes} B, ${locale.gzip} B gzip`);
}
console.log(`whole visitor side (launcher + panel + largest locale): ${totalBytes} B, ${total} B gzip`);
console.log(`integrity (put this in your <script> tag): ${launcher.integrity}`);

if (launcher.gzip > LAUNCHER_BUDGET)
  failures.push(`launcher is ${kb(launcher.gzip)} gzip, over the ${kb(LAUNCHER_BUDGET)} budget`);
if (total > TOTAL_BUDGET) failures.push(`the visitor side is ${kb(total)} gzip, over the ${kb(TOTAL_BUDGET)} budget`);

if (process.argv.includes('--report')) {
  const report = `<!-- bundle-size:start -->

## Widget bundle size (${new Date().toISOString().slice(0, 10)})

Measured by \`node scripts/build-widget-bundle.mjs --report\` (gzip level 9); \`npm run build\` checks the same budgets
and fails when one is exceeded.

| file | what loads it | minified | gzip | budget |
| --- | --- | --- | --- | --- |
| \`sealchat-widget.js\` | the page, before any click | ${launcher.bytes} B | **${launcher.gzip} B** | ≤ ${LAUNCHER_BUDGET} B |
| \`sealchat-panel.js\` | the first click (or idle, \`preload="idle"\`) | ${panel.bytes} B | ${panel.gzip} B | |
| \`${largestLocale.fileName}\` (largest of ${Object.keys(locales).length} locales) | the panel, in that language only | ${largestLocale.bytes} B | ${largestLocale.gzip} B | |
| all three: everything the visitor side needs, crypto included | | ${totalBytes} B | **${total} B** | ≤ ${TOTAL_BUDGET} B |

Baseline: the incumbents' widgets load 130–500 KB before the visitor does anything (../shared/research/widget-anchors.md).

<!-- bundle-size:end -->`;
  const path = resolve(root, 'docs/benchmarks.md');
  const doc = readFileSync(path, 'utf8');
  const next = doc.includes('<!-- bundle-size:start -->')
    ? doc.replace(/<!-- bundle-size:start -->[\s\S]*<!-- bundle-size:end -->/, report)
    : `${doc.trimEnd()}\n\n${report}\n`;
  writeFileSync(path, next);
}

if (failures.length > 0) {
  for (const failure of failures) console.error(`size budget: ${failure}`);
  process.exit(1);
}
