// The before/after of an audit entry as the lines that changed.

/** One changed field: its dotted path and the two values as text ("—" for none). */
export interface DiffLine {
  path: string;
  before: string;
  after: string;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Leaves of an object by dotted path; arrays of scalars stay one leaf ("50, 80, 100"). */
function flatten(v: unknown, prefix: string, out: Map<string, unknown>) {
  if (isObj(v)) {
    const keys = Object.keys(v);
    if (keys.length === 0 && prefix) out.set(prefix, v);
    for (const k of keys) flatten(v[k], prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(v) && v.some((x) => typeof x === "object" && x !== null)) {
    v.forEach((x, i) => flatten(x, `${prefix}[${i}]`, out));
    if (v.length === 0) out.set(prefix, v);
  } else {
    out.set(prefix, v);
  }
}

/** A value for people: strings as they are, lists joined, none as "—". */
export function showValue(v: unknown): string {
  if (v === undefined || v === null || v === "") return "—";
  if (Array.isArray(v)) return v.length ? v.map(showValue).join(", ") : "(none)";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/**
 * The fields that differ between before and after (either may be null: a creation
 * has no before, a removal no after), in the order they first appear.
 */
export function auditDiff(before: Obj | null | undefined, after: Obj | null | undefined): DiffLine[] {
  const b = new Map<string, unknown>();
  const a = new Map<string, unknown>();
  if (before) flatten(before, "", b);
  if (after) flatten(after, "", a);
  const paths = [...new Set([...b.keys(), ...a.keys()])];
  const out: DiffLine[] = [];
  for (const p of paths) {
    const x = showValue(b.get(p));
    const y = showValue(a.get(p));
    if (x !== y) out.push({ path: p, before: x, after: y });
  }
  return out;
}
