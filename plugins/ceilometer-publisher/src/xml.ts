/**
 * A small namespace-aware element tree over fast-xml-parser. fast-xml-parser
 * keeps prefixes as written (`nova:instance`); Nova metadata must be matched by
 * namespace URI, since any prefix may be bound to it.
 */
import { XMLParser } from 'fast-xml-parser';

/** One element with its resolved namespace URI (null when unqualified). */
export interface XmlElement {
  ns: string | null;
  local: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated, trimmed text content of this element (not of descendants). */
  text: string;
}

type FxpNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
});

function build(node: FxpNode, scope: ReadonlyMap<string, string>): XmlElement | null {
  const tag = Object.keys(node).find((k) => k !== ':@' && k !== '#text');
  if (tag === undefined || tag.startsWith('?') || tag === '#comment') return null;
  const raw = (node[':@'] ?? {}) as Record<string, unknown>;
  const attrs: Record<string, string> = {};
  let local = new Map(scope);
  for (const [k, v] of Object.entries(raw)) {
    const value = String(v);
    if (k === 'xmlns') local.set('', value);
    else if (k.startsWith('xmlns:')) local.set(k.slice(6), value);
    else attrs[k.includes(':') ? k.slice(k.indexOf(':') + 1) : k] = value;
  }
  if (local.size === scope.size && [...local].every(([k, v]) => scope.get(k) === v)) local = scope as Map<string, string>;
  const colon = tag.indexOf(':');
  const prefix = colon >= 0 ? tag.slice(0, colon) : '';
  const el: XmlElement = { ns: local.get(prefix) ?? null, local: colon >= 0 ? tag.slice(colon + 1) : tag, attrs, children: [], text: '' };
  for (const child of (node[tag] ?? []) as FxpNode[]) {
    if ('#text' in child) el.text += String(child['#text']);
    else {
      const c = build(child, local);
      if (c) el.children.push(c);
    }
  }
  return el;
}

/** Parse a document and return its root element. */
export function parseXml(text: string): XmlElement {
  const nodes = parser.parse(text) as FxpNode[];
  for (const n of nodes) {
    const el = build(n, new Map());
    if (el) return el;
  }
  throw new Error('XML document has no root element');
}

/** First child with this local name (and namespace, when given). */
export function child(el: XmlElement | undefined, local: string, ns?: string | null): XmlElement | undefined {
  return el?.children.find((c) => c.local === local && (ns === undefined || c.ns === ns));
}

/** All children with this local name. */
export function children(el: XmlElement | undefined, local: string): XmlElement[] {
  return el ? el.children.filter((c) => c.local === local) : [];
}
