import { useEffect, useRef } from "preact/hooks";

let dialogs = 0;

/** Dialog is a modal dialog named by its title; Escape closes it and
 * focus returns to where it was. */
export function Dialog(props: { title: string; onClose: () => void; children: any }) {
  const ref = useRef<HTMLDivElement>(null);
  const id = useRef("dlg-" + ++dialogs);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const el = ref.current!;
    (el.querySelector("[autofocus]") as HTMLElement | null)?.focus() ?? (el.querySelector("button, input, select, textarea") as HTMLElement | null)?.focus();
    return () => {
      // back where it was; when that is gone or disabled (Save after a
      // save), to the main content rather than to nothing
      requestAnimationFrame(() => {
        before?.focus?.();
        if (document.activeElement === document.body) (document.getElementById("main") as HTMLElement | null)?.focus();
      });
    };
  }, []);
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      props.onClose();
    }
    if (e.key === "Tab") {
      const f = Array.from(ref.current!.querySelectorAll<HTMLElement>("button:not([disabled]), input, select, textarea, a[href]"));
      if (f.length === 0) return;
      if (e.shiftKey && document.activeElement === f[0]) {
        e.preventDefault();
        f[f.length - 1].focus();
      } else if (!e.shiftKey && document.activeElement === f[f.length - 1]) {
        e.preventDefault();
        f[0].focus();
      }
    }
  };
  return (
    <div class="backdrop">
      <div ref={ref} role="dialog" aria-modal="true" aria-labelledby={id.current} class="dialog" onKeyDown={onKey}>
        <h2 id={id.current}>{props.title}</h2>
        {props.children}
      </div>
    </div>
  );
}

export interface DiffChange {
  kind: string;
  path?: string[] | string;
  index?: string;
  type?: string;
  group?: boolean;
  steps?: number;
  fromPath?: string[] | string;
  fromIndex?: string;
  property?: string;
  old?: string;
  new?: string;
  reference?: string;
}

export interface DiffResult {
  from?: string;
  to?: string;
  changes: DiffChange[] | null;
  summary?: Record<string, number>;
}

const joined = (p: string[] | string | undefined) => (Array.isArray(p) ? p.join(" / ") : p || "");

function describe(c: DiffChange): string {
  const where = joined(c.path);
  switch (c.kind) {
    case "added":
    case "removed":
      return `${where} ${c.kind}${c.group && c.steps ? ` (a group with ${c.steps} steps)` : ""}`;
    case "moved":
      return `${where} moved from position ${c.fromIndex || "?"}${Array.isArray(c.fromPath) && c.fromPath.length > 1 ? " in " + c.fromPath.slice(0, -1).join(" / ") : ""}`;
    case "renamed":
      return `${where} renamed: ${c.old} → ${c.new}`;
    case "enabled":
    case "disabled":
      return `${where} ${c.kind}`;
    case "condition":
      return `${where}: condition ${c.old ?? "(none)"} → ${c.new ?? "(none)"}`;
    case "reference-gained":
      return `now refers to ${c.reference}`;
    case "reference-lost":
      return `no longer refers to ${c.reference}`;
  }
  const what = c.property ? `${c.kind} ${c.property}` : c.kind;
  return `${where}${where ? ": " : ""}${what}: ${c.old ?? ""} → ${c.new ?? ""}`;
}

const marks: Record<string, string> = { added: "+", removed: "−", moved: ">", "reference-gained": "+", "reference-lost": "−" };

export function DiffList(props: { diff: DiffResult }) {
  const changes = props.diff.changes || [];
  if (changes.length === 0) return <p>No change.</p>;
  return (
    <ul class="diff">
      {changes.map((c, i) => (
        <li key={i} class={"change " + c.kind}>
          <span aria-hidden="true" class="mark">
            {marks[c.kind] ?? "~"}
          </span>{" "}
          {describe(c)}
        </li>
      ))}
    </ul>
  );
}
