import { useEffect, useRef, useState } from "react";
import { currentCursor, FIRST_PAGE, nextPage, normalizeSearch, prevPage, type CursorStack } from "../api/paging";

/** Search and paging state of one list (see usePagedSearch). */
export interface PagedSearch {
  /** What the box shows. */
  input: string;
  setInput: (v: string) => void;
  /** The debounced term sent as `q` ("" = no search). */
  q: string;
  /** The cursor of the page shown ("" for the first). */
  cursor: string;
  hasPrev: boolean;
  /** Moves to the page after this one; a missing cursor changes nothing. */
  next: (cursor: string | undefined | null) => void;
  prev: () => void;
  /** Back to the first page (e.g. after a change that reorders the list). */
  reset: () => void;
}

/**
 * A search box debounced into the server's `q`, and keyset paging over the
 * result (Previous / Next, as on the keys page). A new search starts again at
 * the first page.
 */
export function usePagedSearch(delayMs = 250): PagedSearch {
  const [input, setInput] = useState("");
  const [q, setQ] = useState("");
  const [stack, setStack] = useState<CursorStack>(FIRST_PAGE);
  const sent = useRef("");

  useEffect(() => {
    const t = setTimeout(() => {
      const next = normalizeSearch(input);
      if (next === sent.current) return;
      sent.current = next;
      setQ(next);
      setStack(FIRST_PAGE);
    }, delayMs);
    return () => clearTimeout(t);
  }, [input, delayMs]);

  return {
    /** What the box shows. */
    input,
    setInput,
    /** The debounced term sent as `q` ("" = no search). */
    q,
    cursor: currentCursor(stack),
    hasPrev: stack.length > 1,
    next: (cursor: string | undefined | null) => setStack((s) => nextPage(s, cursor)),
    prev: () => setStack(prevPage),
    /** Back to the first page (e.g. after a change that reorders the list). */
    reset: () => setStack(FIRST_PAGE),
  };
}
