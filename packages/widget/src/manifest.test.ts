import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// custom-elements.json is what IDEs and Storybook show to people using the tag. It is generated from
// the JSDoc of the class, so these tests regenerate it and check it against what the source actually
// does: an attribute the element reads, or an event it fires, without a description fails here.
// The expected lists are derived from the source, never hard-coded, so new attributes are covered.

const widgetDir = resolve(import.meta.dirname, '..');
const cem = join(
  dirname(createRequire(import.meta.url).resolve('@custom-elements-manifest/analyzer/package.json')),
  'cem.js',
);

interface Documented {
  name: string;
  description?: string;
}
interface Declaration {
  kind: string;
  name: string;
  tagName?: string;
  customElement?: boolean;
  attributes?: Documented[];
  events?: Documented[];
  cssParts?: Documented[];
  members?: (Documented & { kind: string })[];
}
interface Manifest {
  modules: {
    path: string;
    declarations?: Declaration[];
    exports?: { kind: string; name: string; declaration: { name: string; module?: string } }[];
  }[];
}

let outDir: string;
let generated: string;
let manifest: Manifest;
let element: Declaration;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'sealchat-cem-'));
  // The same command as `npm run manifest`, written elsewhere (cem joins --outdir onto its cwd).
  await promisify(execFile)(
    process.execPath,
    [
      cem,
      'analyze',
      '--config',
      'custom-elements-manifest.config.mjs',
      '--outdir',
      relative(widgetDir, outDir),
      '--quiet',
    ],
    { cwd: widgetDir },
  );
  generated = await readFile(join(outDir, 'custom-elements.json'), 'utf8');
  manifest = JSON.parse(generated) as Manifest;
  const elements = manifest.modules.flatMap((mod) => mod.declarations ?? []).filter((decl) => decl.customElement);
  expect(elements.map((decl) => decl.name)).toEqual(['SealchatWidget']);
  element = elements[0]!;
}, 60_000);

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

/** What the source of the element says about itself. */
async function readSource(file: string): Promise<{ jsdocTags: Map<string, string[]>; sourceFile: ts.SourceFile }> {
  const text = await readFile(join(widgetDir, 'src', file), 'utf8');
  const sourceFile = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const jsdocTags = new Map<string, string[]>();
  // `@attr name - text`, `@attr {type} name - text`, `@event name - text`, ... (first word is the name).
  for (const match of text.matchAll(/^\s*\*\s*@([a-z]+)\s+(?:\{[^}]*\}\s+)?([\w-]+)/gm)) {
    const [, tag, name] = match as unknown as [string, string, string];
    jsdocTags.set(tag, [...(jsdocTags.get(tag) ?? []), name]);
  }
  return { jsdocTags, sourceFile };
}

function visit(node: ts.Node, fn: (node: ts.Node) => void): void {
  fn(node);
  node.forEachChild((child) => visit(child, fn));
}

const literal = (node: ts.Node | undefined): string | undefined =>
  node && ts.isStringLiteralLike(node) ? node.text : undefined;

/**
 * `this.getAttribute('x')`, `this.hasAttribute('x')` and `observedAttributes`: the attributes the
 * element reads. (What it only writes on itself may be ARIA or `part`, which are not its API.)
 */
function attributesUsed(sourceFile: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  visit(sourceFile, (node) => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.expression.kind === ts.SyntaxKind.ThisKeyword &&
      /^(get|has)Attribute$/.test(node.expression.name.text)
    ) {
      const name = literal(node.arguments[0]);
      if (name) names.add(name);
    }
    if (
      ts.isPropertyDeclaration(node) &&
      node.name.getText() === 'observedAttributes' &&
      node.initializer &&
      ts.isArrayLiteralExpression(node.initializer)
    ) {
      for (const item of node.initializer.elements) {
        const name = literal(item);
        if (name) names.add(name);
      }
    }
  });
  return names;
}

/** `new CustomEvent('x')` and `this.emit('x')`: the events the element fires itself. */
function eventsFired(sourceFile: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  visit(sourceFile, (node) => {
    if (ts.isNewExpression(node) && /^(Custom)?Event$/.test(node.expression.getText())) {
      const name = literal(node.arguments?.[0]);
      if (name) names.add(name);
    }
    if (ts.isCallExpression(node) && /^this\.emit$/.test(node.expression.getText())) {
      const name = literal(node.arguments[0]);
      if (name) names.add(name);
    }
  });
  return names;
}

/** The `sealchat-*` keys define.ts adds to `GlobalEventHandlersEventMap` (the typed events). */
function eventsTyped(sourceFile: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  visit(sourceFile, (node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === 'GlobalEventHandlersEventMap') {
      for (const member of node.members) {
        const name = member.name && literal(member.name);
        if (name?.startsWith('sealchat-')) names.add(name);
      }
    }
  });
  return names;
}

/** `setAttribute('part', 'x')` and `setAttribute('exportparts', 'a, b')`: the parts a page can style. */
function partsExposed(sourceFile: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  visit(sourceFile, (node) => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === 'setAttribute' &&
      /^(export)?parts?$/.test(literal(node.arguments[0]) ?? '')
    ) {
      for (const name of (literal(node.arguments[1]) ?? '').split(/[\s,]+/)) {
        if (name) names.add(name.split(':')[0]!);
      }
    }
  });
  return names;
}

/** Names of the members declared in the element's class body, less the private ones. */
function publicMembers(sourceFile: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  visit(sourceFile, (node) => {
    if (!ts.isClassDeclaration(node) || node.name?.text !== 'SealchatWidget') return;
    for (const member of node.members) {
      const isPrivate = ts.getCombinedModifierFlags(member) & ts.ModifierFlags.Private;
      if (member.name && ts.isIdentifier(member.name) && !isPrivate) names.add(member.name.text);
    }
  });
  return names;
}

/** Names in `wanted` that the manifest lacks, or lists without a description. */
function undocumented(wanted: Iterable<string>, listed: Documented[] | undefined): string[] {
  return [...new Set(wanted)].filter((name) => !listed?.find((entry) => entry.name === name)?.description?.trim());
}

describe('custom-elements.json', () => {
  it('describes the <sealchat-widget> tag', () => {
    expect(element.tagName).toBe('sealchat-widget');
    const definitions = manifest.modules
      .flatMap((mod) => mod.exports ?? [])
      .filter((exp) => exp.kind === 'custom-element-definition');
    expect(definitions).toEqual([
      {
        kind: 'custom-element-definition',
        name: 'sealchat-widget',
        declaration: { name: 'SealchatWidget', module: 'src/sealchat-widget.ts' },
      },
    ]);
  });

  it('documents every attribute the element declares or reads', async () => {
    const { jsdocTags, sourceFile } = await readSource('sealchat-widget.ts');
    const wanted = [
      ...(jsdocTags.get('attr') ?? []),
      ...(jsdocTags.get('attribute') ?? []),
      ...attributesUsed(sourceFile),
    ];
    // Guards the derivation itself: if the source changes shape so that nothing is found, say so.
    expect(jsdocTags.get('attr')?.length).toBeGreaterThan(0);
    expect(attributesUsed(sourceFile).size).toBeGreaterThan(0);
    expect(undocumented(wanted, element.attributes), 'attributes without an @attr line').toEqual([]);
  });

  it('documents every event the element fires or types, open/close/message included', async () => {
    const widget = await readSource('sealchat-widget.ts');
    const define = await readSource('define.ts');
    const wanted = [
      'sealchat-open',
      'sealchat-close',
      'sealchat-message',
      ...(widget.jsdocTags.get('event') ?? []),
      ...eventsFired(widget.sourceFile),
      ...eventsTyped(define.sourceFile),
    ];
    expect(undocumented(wanted, element.events), 'events without an @event line').toEqual([]);
    // Nothing the analyzer guessed from code (a variable event name, say) without documentation.
    expect(
      undocumented(
        (element.events ?? []).map((event) => event.name),
        element.events,
      ),
    ).toEqual([]);
  });

  it('documents every part the element exposes', async () => {
    const { sourceFile } = await readSource('sealchat-widget.ts');
    expect(undocumented(partsExposed(sourceFile), element.cssParts), 'parts without a @csspart line').toEqual([]);
  });

  it('lists only the public API, not internals or what the constructor sets on other objects', async () => {
    const { sourceFile } = await readSource('sealchat-widget.ts');
    const members = (element.members ?? []).map((member) => member.name);
    expect(members.length).toBeGreaterThan(0);
    expect(members.filter((name) => !publicMembers(sourceFile).has(name))).toEqual([]);
  });

  it('is committed up to date (run `npm run manifest -w @sealchat/widget` after changing the JSDoc)', async () => {
    const committed = await readFile(join(widgetDir, 'custom-elements.json'), 'utf8');
    expect(committed).toBe(generated);
  });
});
