/**
 * The HTML a site owner pastes into their pages: the launcher script pinned by Subresource
 * Integrity, and the widget tag pinned to the organisation key (../shared/BRIEF.md, threat 3: the
 * page must deliver the right key and the right code).
 */

export interface EmbedSnippetOptions {
  /** Where the script-tag build (`packages/widget/dist/cdn/`) is hosted: an https URL; http only for localhost. */
  readonly cdnBase: string;
  /** The launcher's SRI hash as `npm run build` prints it (`sealchat-widget.js.sri`): `sha384-…`, or several separated by spaces. */
  readonly launcherIntegrity: string;
  /** The relay's WebSocket URL: wss, or ws for localhost. */
  readonly relayUrl: string;
  /** The organisation key, `sc1…`. */
  readonly orgKey: string;
  /** Further `<sealchat-widget>` attributes (`heading`, `greeting`, `locale`…), written escaped. */
  readonly attributes?: Readonly<Record<string, string>>;
}

const LAUNCHER_FILE = 'sealchat-widget.js';
const INTEGRITY = /^sha(256|384|512)-[A-Za-z0-9+/]+={0,2}( sha(256|384|512)-[A-Za-z0-9+/]+={0,2})*$/;
const ORG_KEY = /^sc1[A-Za-z0-9_-]{48}$/;
const ATTRIBUTE_NAME = /^[a-z][a-z0-9-]*$/;
/** Set by the snippet itself: an extra attribute of the same name would be a second, conflicting pin. */
const RESERVED = new Set(['relay', 'org']);
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The script tag and the widget tag, as HTML text, every attribute value escaped. Inputs are
 * checked first; the escaping is there so that a value the checks let through still cannot leave
 * its attribute.
 * @throws TypeError naming the option that is malformed: a URL that does not parse or uses another
 *   scheme, an integrity that is not an SRI hash, an org key not of the `sc1…` shape (its checksum
 *   is not verified here), or an extra attribute with a bad or reserved name or a non-string value.
 */
export function embedSnippet(options: EmbedSnippetOptions): string {
  const cdnBase = checkUrl('cdnBase', options.cdnBase, 'https:', 'http:');
  if (new URL(cdnBase).search || new URL(cdnBase).hash)
    throw new TypeError('cdnBase must not have a query or fragment');
  const relayUrl = checkUrl('relayUrl', options.relayUrl, 'wss:', 'ws:');
  if (typeof options.launcherIntegrity !== 'string' || !INTEGRITY.test(options.launcherIntegrity)) {
    throw new TypeError('launcherIntegrity must be an SRI hash such as "sha384-…" (sealchat-widget.js.sri)');
  }
  if (typeof options.orgKey !== 'string' || !ORG_KEY.test(options.orgKey)) {
    throw new TypeError('orgKey must be an organisation key, "sc1" and 48 base64url characters');
  }
  const extra = Object.entries(options.attributes ?? {}).map(([name, value]) => {
    if (!ATTRIBUTE_NAME.test(name) || RESERVED.has(name)) {
      throw new TypeError(`attributes: "${name}" is not an attribute name the snippet can add`);
    }
    if (typeof value !== 'string') throw new TypeError(`attributes: the value of "${name}" must be a string`);
    return ` ${name}="${escapeAttribute(value)}"`;
  });
  const src = new URL(LAUNCHER_FILE, cdnBase.endsWith('/') ? cdnBase : `${cdnBase}/`).href;
  return (
    `<script type="module" src="${escapeAttribute(src)}" integrity="${escapeAttribute(options.launcherIntegrity)}" crossorigin="anonymous"></script>\n` +
    `<sealchat-widget relay="${escapeAttribute(relayUrl)}" org="${escapeAttribute(options.orgKey)}"${extra.join('')}></sealchat-widget>`
  );
}

/** Escapes for a double-quoted attribute value; `<` and `>` too, so the text is safe in any HTML context it is pasted into. */
function escapeAttribute(value: string): string {
  return value.replace(/[&"'<>]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** @throws TypeError unless `value` is an absolute URL with the secure scheme, or the plain one on a local host. */
function checkUrl(option: string, value: unknown, secure: string, plain: string): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new TypeError(`${option} must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (
    typeof value !== 'string' ||
    !(url.protocol === secure || (url.protocol === plain && LOCAL_HOSTS.has(url.hostname)))
  ) {
    throw new TypeError(`${option} must be a ${secure.slice(0, -1)} URL (${plain.slice(0, -1)} only for localhost)`);
  }
  if (url.username || url.password) throw new TypeError(`${option} must not carry credentials`);
  return value;
}
