import { useState, type ReactNode } from "react";
import { errorMessage } from "../api/errors";
import { formatUsd, type Nano } from "../format/money";
import { formatDateTime, formatRelative } from "../format/dates";

export function Skeleton({ lines = 3, height = 14 }: { lines?: number; height?: number }) {
  return (
    <div className="skeleton-group" aria-busy="true" aria-label="Loading">
      {Array.from({ length: lines }, (_, i) => (
        <div key={i} className="skeleton" style={{ height, width: `${90 - ((i * 17) % 35)}%` }} />
      ))}
    </div>
  );
}

export function TableSkeleton({ cols, rows = 5 }: { cols: number; rows?: number }) {
  return (
    <tbody aria-busy="true">
      {Array.from({ length: rows }, (_, r) => (
        <tr key={r}>
          {Array.from({ length: cols }, (_, c) => (
            <td key={c}>
              <div className="skeleton" style={{ height: 12, width: `${50 + ((r * 7 + c * 13) % 40)}%` }} />
            </td>
          ))}
        </tr>
      ))}
    </tbody>
  );
}

export function EmptyState({ title, body, action }: { title: string; body?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <div className="empty-icon" aria-hidden="true">
        ◌
      </div>
      <h3>{title}</h3>
      {body && <p className="muted">{body}</p>}
      {action}
    </div>
  );
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div className="error-state" role="alert">
      <strong>Couldn't load this.</strong> <span>{errorMessage(error)}</span>
      {onRetry && (
        <button type="button" className="btn btn-sm" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Badge({ tone = "neutral", children }: { tone?: "neutral" | "green" | "red" | "amber" | "blue" | "purple"; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export function Money({ nano, title }: { nano: Nano | null | undefined; title?: string }) {
  return (
    <span className="num" title={title}>
      {formatUsd(nano)}
    </span>
  );
}

/** A timestamp in the viewer's zone, relative when recent; the full time on hover. */
export function When({ iso, relative = false }: { iso: string | null | undefined; relative?: boolean }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {relative ? formatRelative(iso) : formatDateTime(iso)}
    </time>
  );
}

export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="page-head">
      <div>
        <h1 tabIndex={-1} id="page-title">
          {title}
        </h1>
        {description && <p className="muted">{description}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </div>
  );
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Fallback for non-secure contexts (plain http on a LAN address).
      const ta = document.createElement("textarea");
      ta.value = text;
      document.body.appendChild(ta);
      ta.select();
      document.execCommand("copy");
      ta.remove();
    }
    setDone(true);
    setTimeout(() => setDone(false), 2000);
  };
  return (
    <button type="button" className="btn btn-sm" onClick={copy} aria-live="polite">
      {done ? "Copied ✓" : label}
    </button>
  );
}

export function Field({ label, hint, children, id }: { label: string; hint?: ReactNode; children: ReactNode; id: string }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && (
        <div className="hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
    </div>
  );
}

export function Pager({ hasPrev, hasNext, onPrev, onNext }: { hasPrev: boolean; hasNext: boolean; onPrev: () => void; onNext: () => void }) {
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

/** A progress bar for spend vs limit; amber past 80 %, red past 100 %. */
export function Meter({ ratio, label }: { ratio: number; label: string }) {
  const pct = Math.max(0, Math.min(1, ratio)) * 100;
  const tone = ratio >= 1 ? "red" : ratio >= 0.8 ? "amber" : "green";
  return (
    <div className={`meter meter-${tone}`} role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(ratio * 100)} aria-label={label}>
      <div style={{ width: `${pct}%` }} />
    </div>
  );
}

/** The search box of a server-searched list, with an "Updating…" note while a new page loads. */
export function SearchToolbar({ label, placeholder, value, onChange, updating, children }: { label: string; placeholder: string; value: string; onChange: (v: string) => void; updating?: boolean; children?: ReactNode }) {
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
