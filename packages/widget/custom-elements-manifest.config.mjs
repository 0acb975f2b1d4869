// Config for `npm run manifest` (cem analyze): writes custom-elements.json, which IDEs, Storybook and
// linters read to learn <sealchat-widget>'s attributes, events, parts and CSS properties. Everything
// in it comes from the JSDoc on the class (`@attr`, `@event`, `@csspart`, `@cssprop`), so
// src/manifest.test.ts fails when an attribute or event of the element has no description.

/** @type {import('@custom-elements-manifest/analyzer').Config} */
export default {
  // The class, and the module that gives it its tag name. The panel is internal: not in the manifest.
  globs: ['src/sealchat-widget.ts', 'src/define.ts'],
  exclude: ['src/**/*.test.ts'],
  outdir: '.',
  // package.json already says "customElements": "custom-elements.json"; don't let cem rewrite it.
  packagejson: false,
  plugins: [publicApiOnly()],
};

/**
 * The analyzer is made for classes that keep to `this.x = ...`; on a plain HTMLElement it also
 * reports what the constructor assigns on *other* objects (`launcher.type`, `root.adoptedStyleSheets`)
 * as members, and `new CustomEvent(type)` in a helper as an event named "type". Tools would show
 * those as props and events, so this keeps the manifest to what the class declares and documents:
 * - members: only public ones declared in the class body;
 * - events: drops names that were a variable in `new CustomEvent(variable)`;
 * - attributes: linked to the property of the same (camelCased) name, sharing its description
 *   when one of the two has none;
 * - tag definitions: point at the module path the class is listed under.
 */
function publicApiOnly() {
  /** "module path#class" → names declared in the class body. */
  const declared = new Map();
  const variableEventNames = new Set();
  return {
    name: 'sealchat-public-api-only',
    analyzePhase({ ts, node, moduleDoc }) {
      if (ts.isClassDeclaration(node) && node.name) {
        const names = new Set();
        for (const member of node.members) {
          if (member.name && (ts.isIdentifier(member.name) || ts.isPrivateIdentifier(member.name))) {
            names.add(member.name.text);
          }
        }
        declared.set(`${moduleDoc.path}#${node.name.text}`, names);
      }
      if (
        ts.isNewExpression(node) &&
        ts.isIdentifier(node.expression) &&
        /^(Custom)?Event$/.test(node.expression.text) &&
        node.arguments?.[0] &&
        !ts.isStringLiteralLike(node.arguments[0])
      ) {
        variableEventNames.add(node.arguments[0].getText());
      }
    },
    packageLinkPhase({ customElementsManifest }) {
      const modulePaths = new Set(customElementsManifest.modules.map((mod) => mod.path));
      for (const mod of customElementsManifest.modules) {
        for (const decl of mod.declarations ?? []) {
          if (decl.kind !== 'class') continue;
          const names = declared.get(`${mod.path}#${decl.name}`) ?? new Set();
          decl.members = (decl.members ?? []).filter(
            (member) =>
              member.name && names.has(member.name) && member.privacy !== 'private' && !member.name.startsWith('#'),
          );
          if (decl.events) {
            decl.events = decl.events.filter((event) => event.description || !variableEventNames.has(event.name));
          }
          for (const attribute of decl.attributes ?? []) {
            const fieldName = attribute.name.replace(/-([a-z])/g, (_, letter) => letter.toUpperCase());
            const field = decl.members.find((member) => member.kind === 'field' && member.name === fieldName);
            if (!field) continue;
            attribute.fieldName = fieldName;
            attribute.description ??= field.description;
            field.description ??= attribute.description;
            if (!attribute.description) delete attribute.description;
            if (!field.description) delete field.description;
          }
        }
        for (const exp of mod.exports ?? []) {
          const module = exp.declaration?.module?.replace(/^\//, '');
          if (!module) continue;
          const ts = module.replace(/\.js$/, '.ts');
          exp.declaration.module = modulePaths.has(ts) ? ts : module;
        }
      }
    },
  };
}
