import { SaxesParser } from 'saxes';

/** An element as parsed: its name, its child elements in order, and its own text. */
export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

/**
 * Parse with saxes, a strict XML 1.0 parser (well-formedness, allowed
 * characters, one root): any fault throws with its line and column, so a test
 * proves what an XML client library would get.
 */
export function parseXmlStrict(text: string): { declaration: { version?: string; encoding?: string }; root: XmlElement } {
  const parser = new SaxesParser();
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let declaration: { version?: string; encoding?: string } = {};
  parser.on('error', (err) => {
    throw err;
  });
  parser.on('xmldecl', (d) => {
    declaration = { version: d.version, encoding: d.encoding };
  });
  parser.on('opentag', (tag) => {
    const el: XmlElement = { name: tag.name, children: [], text: '' };
    if (stack.length) stack[stack.length - 1].children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('text', (t) => {
    if (stack.length) stack[stack.length - 1].text += t;
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.write(text).close();
  if (!root) throw new Error('no root element');
  return { declaration, root };
}

/** The text of a child element by name (trimmed), or undefined. */
export function childText(el: XmlElement, name: string): string | undefined {
  return el.children.find((c) => c.name === name)?.text.trim();
}
