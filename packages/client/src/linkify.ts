/**
 * Splits chat text into plain runs and links, for UIs to render as text nodes and anchors. Only
 * `http:` and `https:` URLs become links (no `javascript:`, `data:`, `mailto:`...), each parsed by
 * the URL parser, so a renderer never handles HTML and never a scheme it did not expect.
 */
export type TextSegment =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'link'; readonly text: string; readonly href: string };

// A URL runs to the next whitespace; trailing punctuation that usually ends a sentence is left out.
const CANDIDATE = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAILING = /[.,;:!?'")\]}]+$/;

export function linkify(text: string): TextSegment[] {
  const segments: TextSegment[] = [];
  let last = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    let candidate = match[0];
    const trailing = TRAILING.exec(candidate);
    if (trailing) candidate = candidate.slice(0, -trailing[0].length);
    const href = safeHref(candidate);
    if (!href) continue;
    const start = match.index;
    if (start > last) segments.push({ kind: 'text', text: text.slice(last, start) });
    segments.push({ kind: 'link', text: candidate, href });
    last = start + candidate.length;
  }
  if (last < text.length) segments.push({ kind: 'text', text: text.slice(last) });
  return segments;
}

function safeHref(candidate: string): string | undefined {
  try {
    const url = new URL(candidate);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}
