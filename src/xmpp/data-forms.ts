// XEP-0004 data forms, as far as room configuration needs them.
import { xml, type Element } from '@xmpp/client';
import { NS_DATA } from './ns.js';

export interface FormField {
  var: string;
  type?: string;
  label?: string;
  values: string[];
}

export function parseForm(x: Element | undefined): FormField[] {
  if (!x) return [];
  return x
    .getChildren('field')
    .filter((f) => f.attrs.var)
    .map((f) => ({
      var: f.attrs.var!,
      ...(f.attrs.type ? { type: f.attrs.type } : {}),
      ...(f.attrs.label ? { label: f.attrs.label } : {}),
      values: f.getChildren('value').map((v) => v.text()),
    }));
}

/** A submit form: every field of `form` (fixed ones dropped) with `changes` applied. */
export function submitForm(form: FormField[], changes: Record<string, string | string[]>): Element {
  const seen = new Set<string>();
  const fields: Element[] = [];
  for (const f of form) {
    if (f.type === 'fixed') continue;
    seen.add(f.var);
    const v = changes[f.var] ?? f.values;
    fields.push(xml('field', { var: f.var }, ...(Array.isArray(v) ? v : [v]).map((s) => xml('value', {}, s))));
  }
  for (const [k, v] of Object.entries(changes)) {
    if (seen.has(k)) continue;
    fields.push(xml('field', { var: k }, ...(Array.isArray(v) ? v : [v]).map((s) => xml('value', {}, s))));
  }
  return xml('x', { xmlns: NS_DATA, type: 'submit' }, ...fields);
}

