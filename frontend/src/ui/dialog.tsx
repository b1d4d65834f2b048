import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import { errorMessage } from "../api/errors";

interface DialogProps {
  title: string;
  open: boolean;
  onClose: () => void;
  children: ReactNode;
  /** Optional description under the title (aria-describedby). */
  description?: ReactNode;
  wide?: boolean;
  /**
   * False keeps the dialog open until its own buttons close it: the × is disabled
   * and Esc and backdrop clicks do nothing (a secret shown once, until the user
   * says it is stored). Default true.
   */
  closable?: boolean;
}

/**
 * A modal on the native <dialog>: showModal() makes the page behind inert
 * (focus stays inside), Esc closes, and focus returns to the opener.
 */
export function Dialog({ title, open, onClose, children, description, wide, closable = true }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(null);
  const titleId = useId();
  const descId = useId();

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      opener.current = document.activeElement;
      if (typeof d.showModal === "function") d.showModal();
      else d.setAttribute("open", "");
      const first = d.querySelector<HTMLElement>("[autofocus], input:not([type=hidden]), select, textarea, button:not(.dialog-x)");
      first?.focus();
    } else if (!open && d.open) {
      d.close();
    }
    if (!open && opener.current instanceof HTMLElement) {
      opener.current.focus();
      opener.current = null;
    }
  }, [open]);

  return (
    <dialog
      ref={ref}
      className={`dialog${wide ? " dialog-wide" : ""}`}
      aria-labelledby={titleId}
      aria-describedby={description ? descId : undefined}
      onCancel={(e) => {
        e.preventDefault();
        if (closable) onClose();
      }}
      onClick={(e) => {
        if (closable && e.target === ref.current) onClose(); // backdrop click
      }}
    >
      {open && (
        <div className="dialog-inner">
          <header className="dialog-head">
            <h2 id={titleId}>{title}</h2>
            <button type="button" className="icon-btn dialog-x" aria-label="Close" onClick={onClose} disabled={!closable} title={closable ? undefined : "Not yet: confirm below first"}>
              ×
            </button>
          </header>
          {description && (
            <p id={descId} className="muted">
              {description}
            </p>
          )}
          {children}
        </div>
      )}
    </dialog>
  );
}

interface ConfirmProps {
  open: boolean;
  title: string;
  body: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
}

/** A confirmation for destructive actions; shows the server's error inline if it fails. */
export function ConfirmDialog({ open, title, body, confirmLabel, danger = true, onConfirm, onClose }: ConfirmProps) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    if (open) setErr(null);
  }, [open]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      await onConfirm();
      onClose();
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} title={title} onClose={onClose}>
      <form onSubmit={submit}>
        <div className="dialog-body">{body}</div>
        {err && <FormError message={err} />}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className={`btn ${danger ? "btn-danger" : "btn-primary"}`} disabled={busy} autoFocus>
            {busy ? "Working…" : confirmLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function FormError({ message }: { message: string }) {
  return (
    <div className="form-error" role="alert">
      {message}
    </div>
  );
}
