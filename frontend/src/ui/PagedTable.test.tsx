// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { PagedTable, type ListQuery } from "./PagedTable";
import type { PagedSearch } from "./usePagedSearch";

type Row = { id: string; name: string };

const query = (over: Partial<ListQuery<Row>> = {}): ListQuery<Row> => ({
  data: { data: [{ id: "a", name: "Alice" }, { id: "b", name: "Bob" }], next_cursor: "c2" },
  isPending: false,
  isFetching: false,
  isError: false,
  error: null,
  refetch: vi.fn(),
  ...over,
});

const paging = (over: Partial<PagedSearch> = {}): PagedSearch => ({
  input: "",
  setInput: vi.fn(),
  q: "",
  cursor: "",
  hasPrev: false,
  next: vi.fn(),
  prev: vi.fn(),
  reset: vi.fn(),
  ...over,
});

const columns = [
  { header: "Name", cell: (r: Row) => r.name },
  { header: <span className="sr-only">Actions</span>, className: "r", td: "nowrap", cell: (r: Row) => <button type="button">Edit {r.name}</button> },
];

afterEach(cleanup);

describe("PagedTable", () => {
  it("renders one row per item with its columns, a caption and the column classes", () => {
    render(<PagedTable query={query()} columns={columns} rowKey={(r) => r.id} caption="People" empty={<p>none</p>} />);
    const table = screen.getByRole("table", { name: "People" });
    const rows = within(table).getAllByRole("row");
    expect(rows).toHaveLength(3); // header + 2
    expect(rows[1].textContent).toContain("Alice");
    const cells = within(rows[2]).getAllByRole("cell");
    expect(cells[1].className).toBe("r nowrap");
    expect(within(rows[0]).getAllByRole("columnheader")[1].className).toBe("r");
    expect(table.parentElement?.className).toBe("table-wrap");
    // No paging given: no pager even though the page has a next_cursor.
    expect(screen.queryByRole("navigation", { name: "Pagination" })).toBeNull();
  });

  it("skips columns given as false", () => {
    render(<PagedTable query={query()} columns={[columns[0], false]} rowKey={(r) => r.id} caption="People" empty={null} />);
    expect(screen.getAllByRole("columnheader")).toHaveLength(1);
  });

  it("shows a skeleton while the first page loads, the empty state when there are no rows, and the error with Retry", () => {
    const { rerender } = render(<PagedTable query={query({ data: undefined, isPending: true })} columns={columns} rowKey={(r) => r.id} caption="People" empty={<p>none</p>} />);
    expect(document.querySelector("tbody[aria-busy='true'] .skeleton")).not.toBeNull();
    rerender(<PagedTable query={query({ data: { data: [] } })} columns={columns} rowKey={(r) => r.id} caption="People" empty={<p>none</p>} />);
    expect(screen.getByText("none")).toBeTruthy();
    expect(screen.queryByRole("table")).toBeNull();
    const q = query({ isError: true, error: new Error("boom") });
    rerender(<PagedTable query={q} columns={columns} rowKey={(r) => r.id} caption="People" empty={<p>none</p>} />);
    expect(screen.getByRole("alert").textContent).toContain("boom");
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(q.refetch).toHaveBeenCalledOnce();
  });

  it("pages with the server's cursor and searches through the paging state", () => {
    const p = paging({ hasPrev: true, input: "al" });
    render(
      <PagedTable query={query({ isFetching: true })} paging={p} search={{ label: "Search people", placeholder: "Search…" }} columns={columns} rowKey={(r) => r.id} caption="People" empty={null} />,
    );
    const pager = screen.getByRole("navigation", { name: "Pagination" });
    fireEvent.click(within(pager).getByRole("button", { name: /Next/ }));
    expect(p.next).toHaveBeenCalledWith("c2");
    fireEvent.click(within(pager).getByRole("button", { name: /Previous/ }));
    expect(p.prev).toHaveBeenCalledOnce();
    const box = screen.getByRole("searchbox", { name: "Search people" }) as HTMLInputElement;
    expect(box.value).toBe("al");
    fireEvent.change(box, { target: { value: "ali" } });
    expect(p.setInput).toHaveBeenCalledWith("ali");
    expect(screen.getByText("Updating…")).toBeTruthy();
  });

  it("disables Next on the last page", () => {
    render(<PagedTable query={query({ data: { data: [{ id: "a", name: "A" }] } })} paging={paging({ hasPrev: true })} columns={columns} rowKey={(r) => r.id} caption="People" empty={null} />);
    const pager = screen.getByRole("navigation", { name: "Pagination" });
    expect((within(pager).getByRole("button", { name: /Next/ }) as HTMLButtonElement).disabled).toBe(true);
    expect((within(pager).getByRole("button", { name: /Previous/ }) as HTMLButtonElement).disabled).toBe(false);
  });

  it("adds a full-width detail row under a row that has one, and row and cell attributes", () => {
    render(
      <PagedTable
        query={query()}
        columns={[{ ...columns[0], tdProps: { "data-testid": "name-cell", style: { minWidth: 180 } } }, columns[1]]}
        rowKey={(r) => r.id}
        caption="People"
        empty={null}
        rowProps={(r) => ({ "data-id": r.id })}
        detail={(r) => r.id === "b" && <pre>details of {r.name}</pre>}
        detailClassName="sub"
      />,
    );
    const rows = screen.getAllByRole("row");
    expect(rows).toHaveLength(4);
    expect(rows[2].getAttribute("data-id")).toBe("b");
    expect(rows[3].className).toBe("sub");
    const cell = within(rows[3]).getByRole("cell");
    expect(cell.getAttribute("colspan")).toBe("2");
    expect(cell.textContent).toBe("details of Bob");
    const named = screen.getAllByTestId("name-cell");
    expect(named).toHaveLength(2);
    expect(named[0].tagName).toBe("TD");
    expect(named[0].style.minWidth).toBe("180px");
  });
});
