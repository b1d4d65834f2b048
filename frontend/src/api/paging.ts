// Search + keyset paging state shared by the paged lists (keys, members, tenants).
// The server pages by an opaque `next_cursor`; going back needs the cursors that
// led here, so the state is a stack: [""] is the first page.

/** A stack of page cursors; the last one is the page shown. Never empty. */
export type CursorStack = readonly string[];

export const FIRST_PAGE: CursorStack = [""];

/** The cursor of the page shown ("" for the first). */
export const currentCursor = (s: CursorStack): string => s[s.length - 1] ?? "";

/** Moves to the next page; a missing or repeated cursor (a server that loops) changes nothing. */
export function nextPage(s: CursorStack, next: string | undefined | null): CursorStack {
  if (!next || s.includes(next)) return s;
  return [...s, next];
}

/** Moves back one page; the first page stays. */
export function prevPage(s: CursorStack): CursorStack {
  return s.length > 1 ? s.slice(0, -1) : s;
}

/** The search term as sent: trimmed, inner runs of spaces collapsed. */
export function normalizeSearch(q: string): string {
  return q.trim().replace(/\s+/g, " ");
}
