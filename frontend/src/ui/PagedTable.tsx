// The one table of the list pages: columns, the search box, the loading skeleton,
// the empty and the error state, and Previous / Next over the server's keyset
// cursors (next_cursor). Lists the server does not page (models, invoices) use it
// too and get no pager.

import { Fragment, type HTMLAttributes, type ReactNode, type TdHTMLAttributes } from "react";
import { listOf } from "../api/endpoints";
import type { Page } from "../api/types";
import { ErrorState, TableSkeleton } from "./page";
import type { PagedSearch } from "./usePagedSearch";

type DataAttributes = { [data: `data-${string}`]: string | undefined };

/** One column of a PagedTable. */
export interface Column<T> {
  /** The header cell; a column without a visible title puts its name in a <span className="sr-only">. */
  header: ReactNode;
  /**
   * The cell's label on phones, where each row becomes a card of "label: value"
   * lines; defaults to the header when it is a string. Action columns need none:
   * they are marked with actions.
   */
  label?: string;
  /** The row's buttons: on phones they get a line of their own, left-aligned, never off-screen. */
  actions?: boolean;
  /** Classes of the header and the body cells alike: "r" aligns right, "hide-sm" hides the column on phones. */
  className?: string;
  /** Further classes of the header cell only. */
  th?: string;
  /** Further classes of the body cells only (e.g. "nowrap"). */
  td?: string;
  /** Further attributes of every body cell of the column (a style, data-* for the tests). */
  tdProps?: TdHTMLAttributes<HTMLTableCellElement> & DataAttributes;
  /** The content of this column's cell in one row. */
  cell: (row: T) => ReactNode;
}

/** The part of a TanStack Query result a PagedTable reads. */
export interface ListQuery<T> {
  data: Page<T> | T[] | undefined;
  isPending: boolean;
  isFetching: boolean;
  isError: boolean;
  error: unknown;
  refetch: () => unknown;
}

/** The search box above the table; its value is the paging's unless given (a list filtered in the browser). */
export interface TableSearch {
  label: string;
  placeholder: string;
  value?: string;
  onChange?: (v: string) => void;
  /** More controls in the toolbar, after the box (e.g. a filter checkbox). */
  children?: ReactNode;
}

export interface PagedTableProps<T> {
  query: ListQuery<T>;
  /** The columns; false / null entries (a column the viewer may not see) are skipped. */
  columns: (Column<T> | false | null | undefined)[];
  rowKey: (row: T) => string;
  /** The table's accessible name (a caption only screen readers show). */
  caption: string;
  /** Shown instead of the table when there are no rows (an <EmptyState>). */
  empty: ReactNode;
  /** Server search and keyset paging (usePagedSearch); without it there is no pager. */
  paging?: PagedSearch;
  search?: TableSearch;
  /** The rows shown, when not the query's own (a list filtered in the browser). */
  rows?: T[];
  /** Attributes of a row's <tr> (a class, data-* for the tests). */
  rowProps?: (row: T) => HTMLAttributes<HTMLTableRowElement> & DataAttributes;
  /** A full-width row under a row (expanded details); null for none. */
  detail?: (row: T) => ReactNode;
  detailClassName?: string;
  testId?: string;
}

const cx = (...c: (string | undefined)[]) => c.filter(Boolean).join(" ") || undefined;

/** A column's label in the phone layout (see Column.label). */
function cellLabel<T>(c: Column<T>): string | undefined {
  if (c.actions) return undefined;
  return c.label ?? (typeof c.header === "string" ? c.header : undefined);
}

/** A list page's table: search box, table (scrolling inside its box on narrow screens), states and pager. */
export function PagedTable<T>({ query, columns, rowKey, caption, empty, paging, search, rows, rowProps, detail, detailClassName, testId }: PagedTableProps<T>) {
  const cols = columns.filter((c): c is Column<T> => !!c);
  const shown = rows ?? listOf(query.data);
  const next = Array.isArray(query.data) ? undefined : query.data?.next_cursor;
  return (
    <>
      {search && (
        <SearchToolbar
          label={search.label}
          placeholder={search.placeholder}
          value={search.value ?? paging?.input ?? ""}
          onChange={search.onChange ?? paging?.setInput ?? (() => {})}
          updating={!!paging && query.isFetching && !query.isPending}
        >
          {search.children}
        </SearchToolbar>
      )}
      {query.isError ? (
        <ErrorState error={query.error} onRetry={() => query.refetch()} />
      ) : !query.isPending && shown.length === 0 ? (
        empty
      ) : (
        <section className="card flush">
          <div className="table-wrap">
            <table className="table cards" data-testid={testId}>
              <caption className="sr-only">{caption}</caption>
              <thead>
                <tr>
                  {cols.map((c, i) => (
                    <th key={i} scope="col" className={cx(c.className, c.th)}>
                      {c.header}
                    </th>
                  ))}
                </tr>
              </thead>
              {query.isPending ? (
                <TableSkeleton cols={cols.length} />
              ) : (
                <tbody>
                  {shown.map((row) => {
                    const more = detail?.(row);
                    return (
                      <Fragment key={rowKey(row)}>
                        <tr {...rowProps?.(row)}>
                          {cols.map((c, i) => (
                            <td key={i} {...c.tdProps} data-label={cellLabel(c)} className={cx(c.className, c.td, c.actions ? "cell-actions" : undefined)}>
                              <div className="cell-v">{c.cell(row)}</div>
                            </td>
                          ))}
                        </tr>
                        {more != null && more !== false && (
                          <tr className={detailClassName}>
                            <td colSpan={cols.length}>{more}</td>
                          </tr>
                        )}
                      </Fragment>
                    );
                  })}
                </tbody>
              )}
            </table>
          </div>
          {paging && <Pager hasPrev={paging.hasPrev} hasNext={!!next} onPrev={paging.prev} onNext={() => paging.next(next)} />}
        </section>
      )}
    </>
  );
}

/** The search box of a server-searched list, with an "Updating…" note while a new page loads. */
function SearchToolbar({ label, placeholder, value, onChange, updating, children }: { label: string; placeholder: string; value: string; onChange: (v: string) => void; updating?: boolean; children?: ReactNode }) {
  return (
    <div className="toolbar">
      <label className="search">
        <span className="sr-only">{label}</span>
        <input type="search" placeholder={placeholder} value={value} onChange={(e) => onChange(e.target.value)} />
      </label>
      {updating && (
        <span className="muted small" aria-live="polite">
          Updating…
        </span>
      )}
      {children}
    </div>
  );
}

function Pager({ hasPrev, hasNext, onPrev, onNext }: { hasPrev: boolean; hasNext: boolean; onPrev: () => void; onNext: () => void }) {
  if (!hasPrev && !hasNext) return null;
  return (
    <nav className="pager" aria-label="Pagination">
      <button type="button" className="btn btn-sm" disabled={!hasPrev} onClick={onPrev}>
        ← Previous
      </button>
      <button type="button" className="btn btn-sm" disabled={!hasNext} onClick={onNext}>
        Next →
      </button>
    </nav>
  );
}
