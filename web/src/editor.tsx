// The task sequence editor: a virtualised tree of groups and steps, the
// detail pane typed from the schema, the palette, and saving under the
// SEDO lock after a review of the semantic diff.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, call, can, lockContext, odata, session } from "./api";
import { Prop, Schema, schema } from "./schema";
import type { SMS_TaskSequencePackage_GetSequenceResult } from "../gen/TsprovModel";
import { Json, cls, condition, icon, isGroup, label } from "./words";
import { Dialog, DiffList, DiffResult } from "./ui";

const rowHeight = 28;
const overscan = 12;
// A tree of at most this many visible rows is rendered whole (every item in
// the DOM, for find in page and assistive technology); a bigger one only
// renders the rows in view.
const renderAll = 400;

interface Row {
  step: Json;
  depth: number;
  parent: Json[]; // the array that holds the step
  index: number;
  group: boolean;
  path: string; // Steps[3].Steps[1], as lint and plan name a step
}

// flatten lists the visible rows: the steps of every expanded group.
function flatten(steps: Json[], expanded: WeakSet<Json>, collapsed: boolean, depth = 1, out: Row[] = [], prefix = ""): Row[] {
  steps.forEach((step, index) => {
    const group = isGroup(step);
    const path = `${prefix}Steps[${index}]`;
    out.push({ step, depth, parent: steps, index, group, path });
    if (group && (collapsed ? expanded.has(step) : !expanded.has(step))) flatten(step.Steps || [], expanded, collapsed, depth + 1, out, path + ".");
  });
  return out;
}

function countSteps(steps: Json[]): number {
  let n = 0;
  for (const s of steps) n += 1 + (isGroup(s) ? countSteps(s.Steps || []) : 0);
  return n;
}

function contains(group: Json, step: Json): boolean {
  if (group === step) return true;
  return isGroup(group) && (group.Steps || []).some((s: Json) => contains(s, step));
}

export interface LintFinding {
  rule: string;
  severity: string;
  step: string;
  stepName: string;
  message: string;
  hint?: string;
}

/** stepPath is how the diff and lint name a step: the names of its groups and its own. */
export function stepPath(steps: Json[], target: Json, prefix = ""): string | null {
  for (const s of steps) {
    const p = prefix ? prefix + "/" + s.Name : s.Name;
    if (s === target) return p;
    if (isGroup(s)) {
      const r = stepPath(s.Steps || [], target, p);
      if (r) return r;
    }
  }
  return null;
}

export function Editor(props: { id: string; pkg: Json; onSaved: () => void; onLoaded?: () => void; lint: Map<string, LintFinding[]> }) {
  const { id } = props;
  const writable = can("SMS_TaskSequencePackage", "Modify");
  const [sch, setSch] = useState<Schema | null>(null);
  const [seq, setSeq] = useState<Json | null>(null);
  const [edits, setEdits] = useState(0); // edits since the tree was read or saved
  const [rev, setRev] = useState(0); // bumped by every edit
  const [selected, setSelected] = useState<Json | null>(null);
  const [active, setActive] = useState(0);
  const [error, setError] = useState("");
  const [status, setStatus] = useState("");
  const [alert, setAlert] = useState("");
  const [review, setReview] = useState<DiffResult | null>(null);
  const [palette, setPalette] = useState(false);
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState(""); // SedoObjectVersion of the package the tree was read from
  const expanded = useRef(new WeakSet<Json>()); // toggled groups
  const [collapsedByDefault, setCollapsedByDefault] = useState(false);
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const drag = useRef<Json | null>(null);
  const saving = useRef(false); // our own save: its change event is not someone else's
  const pkgRef = useRef(props.pkg);
  pkgRef.current = props.pkg;

  const load = async () => {
    setError("");
    try {
      // the version of the package as read before the sequence (the
      // package screen reads it first): a change between the two reads then
      // shows as stale at the save (the safe side), never the other way round
      const opened = pkgRef.current;
      const [s, res] = await Promise.all([schema(), // the action as the generated client calls it, its answer used as
        // sent (the client's response conversion walks every step)
        call<SMS_TaskSequencePackage_GetSequenceResult>("POST", "/odata/SMS_TaskSequencePackage/AdminService.GetSequence", {
          TaskSequencePackage: { PackageID: id },
        })]);
      setSch(s);
      setVersion(String(opened.SedoObjectVersion ?? ""));
      setTimeout(() => props.onLoaded?.(), 300); // after the tree is drawn
      const ts: Json = (res.TaskSequence as Json) || { Steps: [] };
      ts.Steps = ts.Steps || [];
      setCollapsedByDefault(countSteps(ts.Steps) > 400);
      expanded.current = new WeakSet();
      setSeq(ts);
      setEdits(0);
      setSelected(null);
      setActive(0);
      setRev((r) => r + 1);
    } catch (e: any) {
      setError(e.message || String(e));
    }
  };
  useEffect(() => {
    load();
  }, [id]);

  // edited: a counter, not a comparison of the whole sequence (a 2 MB one
  // would be serialised at each keystroke); an edit undone by hand still
  // counts, and its review then shows no change
  const dirty = seq !== null && edits > 0;

  // lint: the saved package's findings, or once edited those of the draft
  // (its XML from SaveToXml, linted as is), a moment after the last edit
  const [draftLint, setDraftLint] = useState<Map<string, LintFinding[]> | null>(null);
  useEffect(() => {
    if (!dirty || !seq) {
      setDraftLint(null);
      return;
    }
    let stale = false;
    const t = setTimeout(async () => {
      try {
        const xml = await call<Json>("POST", "/odata/SaveToXml", { TaskSequence: seq });
        const r = await call<Json>("POST", "/tsprov/v1/lint", { Sequence: xml.ReturnValue });
        if (stale) return;
        const map = new Map<string, LintFinding[]>();
        for (const f of (r.result?.findings || []) as LintFinding[]) map.set(f.step, [...(map.get(f.step) || []), f]);
        setDraftLint(map);
      } catch {
        /* a draft that does not save yet: no findings shown for it */
      }
    }, 1200);
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [rev, dirty]);
  const lint = draftLint ?? props.lint;
  const rows = useMemo(() => (seq ? flatten(seq.Steps, expanded.current, collapsedByDefault) : []), [seq, rev, collapsedByDefault]);

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setViewport(el.clientHeight || 600));
    ro.observe(el);
    return () => ro.disconnect();
  }, [seq !== null]);

  // live: another session saved the package
  useEffect(() => {
    const on = (e: Event) => {
      const d = (e as CustomEvent).detail as { version: string; by: string };
      if (saving.current || d.version === version) return;
      if (!dirty) {
        setStatus(`This package was changed by ${d.by}; the tree was reloaded.`);
        load();
      } else {
        setStatus(`This package was changed by ${d.by}. Your edits are kept; reload to see theirs.`);
      }
    };
    addEventListener("tsprov:changed", on);
    return () => removeEventListener("tsprov:changed", on);
  }, [version, dirty]);

  const edit = (fn: () => void) => {
    if (!writable) return;
    fn();
    setRev((r) => r + 1);
    setEdits((n) => n + 1);
    setStatus("");
  };

  const isOpen = (step: Json) => (collapsedByDefault ? expanded.current.has(step) : !expanded.current.has(step));
  const toggle = (step: Json, open?: boolean) => {
    if (!isGroup(step)) return;
    if (open !== undefined && open === isOpen(step)) return;
    if (expanded.current.has(step)) expanded.current.delete(step);
    else expanded.current.add(step);
    setRev((r) => r + 1);
  };

  const focusRow = (i: number, focus = true) => {
    const n = Math.max(0, Math.min(rows.length - 1, i));
    setActive(n);
    setSelected(rows[n]?.step ?? null);
    const el = scroller.current;
    if (el) {
      const top = n * rowHeight;
      if (top < el.scrollTop) el.scrollTop = top;
      else if (top + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top + rowHeight - el.clientHeight;
    }
    if (focus) requestAnimationFrame(() => (document.getElementById(`ts-row-${n}`) as HTMLElement | null)?.focus());
  };

  // the step to focus once the rows are laid out again (after a move)
  const pendingFocus = useRef<Json | null>(null);
  const pendingShow = useRef(false); // only scroll to it and select it (find)
  useEffect(() => {
    const step = pendingFocus.current;
    if (!step) return;
    pendingFocus.current = null;
    const i = rows.findIndex((r) => r.step === step);
    if (i >= 0) focusRow(i, !pendingShow.current);
    pendingShow.current = false;
  }, [rows]);

  const move = (row: Row, delta: number): boolean => {
    const to = row.index + delta;
    if (to < 0 || to >= row.parent.length) return false;
    edit(() => {
      row.parent.splice(row.index, 1);
      row.parent.splice(to, 0, row.step);
    });
    pendingFocus.current = row.step;
    return true;
  };

  // find: the next step whose name holds the text, in document order from
  // the selected one, its groups opened
  const [find, setFind] = useState("");
  const findNext = () => {
    const text = find.trim().toLowerCase();
    if (!text || !seq) return;
    const all: [Json, Json[]][] = [];
    const walk = (steps: Json[], up: Json[]) => {
      for (const st of steps) {
        all.push([st, up]);
        if (isGroup(st)) walk(st.Steps || [], [...up, st]);
      }
    };
    walk(seq.Steps, []);
    const from = selected ? all.findIndex(([st]) => st === selected) : -1;
    for (let k = 1; k <= all.length; k++) {
      const [st, up] = all[(from + k) % all.length];
      if (String(st.Name || "").toLowerCase().includes(text)) {
        for (const g of up) toggle(g, true);
        setSelected(st);
        pendingFocus.current = st;
        pendingShow.current = true;
        setRev((r) => r + 1);
        setStatus("");
        return;
      }
    }
    setStatus(`No step named like "${find}"`);
  };

  // outdent: out of its group, right after it; indent: into the group
  // just above it, at the end
  const outdent = (row: Row): boolean => {
    const owner = ownerGroup(seq!.Steps, row.step);
    if (!owner) return false;
    const outer = findParent(seq!.Steps, owner)!;
    edit(() => {
      row.parent.splice(row.index, 1);
      outer.splice(outer.indexOf(owner) + 1, 0, row.step);
    });
    pendingFocus.current = row.step;
    return true;
  };
  const indent = (row: Row): boolean => {
    const above = row.parent[row.index - 1];
    if (!above || !isGroup(above)) return false;
    edit(() => {
      row.parent.splice(row.index, 1);
      (above.Steps = above.Steps || []).push(row.step);
    });
    toggle(above, true);
    pendingFocus.current = row.step;
    return true;
  };

  const onKey = (e: KeyboardEvent) => {
    const row = rows[active];
    if (!row) return;
    if (e.key === "Delete" && writable) {
      e.preventDefault();
      remove();
      return;
    }
    if (e.altKey && ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"].includes(e.key)) {
      e.preventDefault();
      if (!writable) return;
      const how: Record<string, [() => boolean, string]> = {
        ArrowUp: [() => move(row, -1), "up"],
        ArrowDown: [() => move(row, 1), "down"],
        ArrowLeft: [() => outdent(row), "out of its group"],
        ArrowRight: [() => indent(row), "into the group above"],
      };
      const [fn, words] = how[e.key];
      setStatus(fn() ? `Moved ${row.step.Name} ${words}` : `${row.step.Name} cannot move ${words}`);
      return;
    }
    switch (e.key) {
      case "ArrowDown":
        focusRow(active + 1);
        break;
      case "ArrowUp":
        focusRow(active - 1);
        break;
      case "Home":
        focusRow(0);
        break;
      case "End":
        focusRow(rows.length - 1);
        break;
      case "ArrowRight":
        if (row.group && !isOpen(row.step)) toggle(row.step, true);
        else if (row.group) focusRow(active + 1);
        break;
      case "ArrowLeft":
        if (row.group && isOpen(row.step)) toggle(row.step, false);
        else {
          for (let i = active - 1; i >= 0; i--) if (rows[i].depth < row.depth) return focusRow(i);
        }
        break;
      case "Enter":
      case " ":
        if (row.group) toggle(row.step);
        setSelected(row.step);
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const drop = (target: Row, e: DragEvent) => {
    e.preventDefault();
    const step = drag.current;
    drag.current = null;
    if (!step || step === target.step || contains(step, target.step)) return;
    const box = (e.currentTarget as HTMLElement).getBoundingClientRect();
    const into = target.group && e.clientY > box.top + box.height / 2;
    edit(() => {
      const from = findParent(seq!.Steps, step);
      if (!from) return;
      from.splice(from.indexOf(step), 1);
      if (into) {
        target.step.Steps = target.step.Steps || [];
        target.step.Steps.push(step);
        toggle(target.step, true);
      } else {
        target.parent.splice(target.parent.indexOf(target.step), 0, step);
      }
    });
  };

  const add = (className: string) => {
    setPalette(false);
    const step: Json = { "@odata.type": "#AdminService." + className, Name: label(className), Description: "", Enabled: true, ContinueOnError: false };
    if (className === "SMS_TaskSequence_Group") step.Steps = [];
    else {
      for (const p of sch!.props(className)) {
        if (!p.nullable && !(p.name in step) && p.type.startsWith("Edm.") && !p.collection) {
          step[p.name] = p.allowed?.[0] ?? (p.type === "Edm.Boolean" ? false : p.type.startsWith("Edm.Int") ? 0 : "");
        }
      }
    }
    edit(() => {
      const sel = selected;
      if (sel && isGroup(sel)) {
        sel.Steps = sel.Steps || [];
        sel.Steps.push(step);
        toggle(sel, true);
      } else if (sel) {
        const parent = findParent(seq!.Steps, sel)!;
        parent.splice(parent.indexOf(sel) + 1, 0, step);
      } else seq!.Steps.push(step);
    });
    setSelected(step);
    setStatus(`Added ${step.Name}`);
  };

  const remove = () => {
    const sel = selected;
    if (!sel) return;
    const at = rows.findIndex((r) => r.step === sel);
    edit(() => {
      const parent = findParent(seq!.Steps, sel);
      if (parent) parent.splice(parent.indexOf(sel), 1);
    });
    setStatus(`Deleted ${sel.Name}${isGroup(sel) ? " and the steps in it" : ""}`);
    setSelected(null);
    requestAnimationFrame(() => focusRow(Math.min(at, rows.length - 2)));
  };

  const objectPath = `SMS_TaskSequencePackage.PackageID="${id}"`;
  const release = () => call("POST", "/AdminService/wmi/SMS_ObjectLock.ReleaseLock", { ObjectRelPath: objectPath }).catch(() => undefined);
  // a tab closed during the review gives the lock back (else it would hold
  // until the lock timeout)
  useEffect(() => {
    if (!review) return;
    const bye = () => {
      fetch("/AdminService/wmi/SMS_ObjectLock.ReleaseLock", {
        method: "POST",
        keepalive: true,
        credentials: "omit",
        headers: { Authorization: session()?.authorization || "", ObjectLockContext: lockContext, "Content-Type": "application/json" },
        body: JSON.stringify({ ObjectRelPath: objectPath }),
      });
    };
    addEventListener("pagehide", bye);
    return () => removeEventListener("pagehide", bye);
  }, [review]);

  // save: the lock, the stale check, the diff to review
  const startSave = async () => {
    setBusy(true);
    setAlert("");
    setStatus("");
    let locked = false;
    try {
      const lock = await call<Json>("POST", "/AdminService/wmi/SMS_ObjectLock.RequestLock", { ObjectRelPath: objectPath });
      const state = Number(lock.RequestState);
      locked = [10, 11, 12].includes(state);
      if (!locked) {
        throw new ApiError(423, `The package is locked by ${lock.AssignedUser || "another session"}${lock.AssignedMachine ? " on " + lock.AssignedMachine : ""}${lock.AssignedTimeUTC ? " since " + lock.AssignedTimeUTC : ""}. Your edits are kept; save again when the lock is released.`);
      }
      const now = await odata()
        .SMS_TaskSequencePackage(id)
        .query((b) => b.select("PackageID", "Name", "Description", "SedoObjectVersion", "References"));
      const current = String((now.data as Json).SedoObjectVersion ?? "");
      if (version && current && current !== version) {
        throw new ApiError(412, "Someone else saved this package after you opened it. Your edits are kept: reload to see their version (your edits are then lost), or compare in History.");
      }
      const xml = await call<Json>("POST", "/odata/SaveToXml", { TaskSequence: seq });
      const d = await call<DiffResult>("POST", "/tsprov/v1/diff", { From: id, Sequence: xml.ReturnValue });
      setReview(d);
    } catch (e: any) {
      if (locked) await release();
      setAlert(e.message || String(e));
    } finally {
      setBusy(false);
    }
  };

  const confirmSave = async (comment: string) => {
    setBusy(true);
    saving.current = true;
    try {
      await call(
        "POST",
        "/odata/SMS_TaskSequencePackage/AdminService.SetSequence",
        { TaskSequencePackage: { PackageID: id }, TaskSequence: seq },
        comment ? { "X-Tsprov-Comment": comment } : undefined,
      );
      const now = await odata()
        .SMS_TaskSequencePackage(id)
        .query((b) => b.select("PackageID", "Name", "Description", "SedoObjectVersion", "References"));
      setVersion(String((now.data as Json).SedoObjectVersion ?? ""));
      await release();
      setReview(null);
      setEdits(0);
      setStatus("Saved");
      props.onSaved();
    } catch (e: any) {
      setReview(null);
      await release();
      setAlert(`Not saved: ${e.message || e}. Your edits are kept.`);
    } finally {
      setBusy(false);
      saving.current = false;
    }
  };

  if (error) return <p role="alert" class="error">{error}</p>;
  if (!seq || !sch) return <p aria-busy="true">Loading the task sequence…</p>;

  const virtual = rows.length > renderAll;
  const first = virtual ? Math.max(0, Math.floor(scrollTop / rowHeight) - overscan) : 0;
  const last = virtual ? Math.min(rows.length, Math.ceil((scrollTop + viewport) / rowHeight) + overscan) : rows.length;

  return (
    <div class="editor">
      <div class="toolbar">
        {writable ? (
          <>
            <button class="primary" onClick={startSave} disabled={!dirty || busy}>
              Save
            </button>
            <button onClick={() => setPalette(true)} aria-haspopup="dialog">
              Add step
            </button>
            <button onClick={remove} disabled={!selected}>
              Delete step
            </button>
            {dirty && <button onClick={load}>Discard changes</button>}
          </>
        ) : (
          <p role="note" class="note">
            Read only: your security roles do not allow changing this package.
          </p>
        )}
        <form
          class="find"
          role="search"
          aria-label="Find a step"
          onSubmit={(e) => {
            e.preventDefault();
            findNext();
          }}
        >
          <input type="search" aria-label="Find a step by name" placeholder="Find a step" value={find} onInput={(e) => setFind(e.currentTarget.value)} />
          <button type="submit">Find next</button>
        </form>
        <span class="count">{countSteps(seq.Steps)} steps</span>
        {status && (
          <span role="status" class="status">
            {status}
            {status.includes("changed by") && dirty && !alert.startsWith("Someone else saved") && <button onClick={load}>Reload</button>}
          </span>
        )}
      </div>
      {alert && (
        <div role="alert" class="error">
          {alert}
          {alert.startsWith("Someone else saved") && (
            <button class="inline-action" onClick={() => (setAlert(""), load())}>
              Reload
            </button>
          )}
        </div>
      )}
      <div class="split">
        <div
          ref={scroller}
          class="tree"
          role="tree"
          aria-label="Task sequence"
          aria-activedescendant={undefined}
          onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
          onKeyDown={onKey}
        >
          <div style={{ height: rows.length * rowHeight + "px", position: "relative" }} role="presentation">
            {rows.slice(first, last).map((row, k) => {
              const i = first + k;
              const s = row.step;
              const disabled = s.Enabled === false;
              const cond = condition(s.Condition);
              const findings = lint.get(row.path) || [];
              return (
                <div
                  key={i}
                  id={`ts-row-${i}`}
                  role="treeitem"
                  aria-level={row.depth}
                  aria-setsize={row.parent.length}
                  aria-posinset={row.index + 1}
                  aria-expanded={row.group ? isOpen(s) : undefined}
                  aria-selected={selected === s}
                  tabIndex={i === active ? 0 : -1}
                  class={"row" + (disabled ? " disabled" : "") + (selected === s ? " selected" : "")}
                  style={{ transform: `translateY(${i * rowHeight}px)`, paddingLeft: `${row.depth * 16}px` }}
                  draggable={writable}
                  onDragStart={() => (drag.current = s)}
                  onDragOver={(e) => e.preventDefault()}
                  onDrop={(e) => drop(row, e)}
                  onClick={() => {
                    setActive(i);
                    setSelected(s);
                  }}
                  onDblClick={() => toggle(s)}
                >
                  {row.group ? (
                    <span class="twisty" aria-hidden="true" onClick={(e) => (e.stopPropagation(), toggle(s))}>
                      {isOpen(s) ? "▾" : "▸"}
                    </span>
                  ) : (
                    <span class="twisty" aria-hidden="true" />
                  )}
                  <span class="icon" aria-hidden="true" title={label(cls(s))}>
                    {icon(cls(s))}
                  </span>
                  <span class="name">{s.Name || "(unnamed)"}</span>
                  {disabled && <span class="tag"> (disabled)</span>}
                  {cond && <span class="cond"> — {cond}</span>}
                  {findings.length > 0 && (
                    <span class={"lint " + findings[0].severity} title={findings.map((f) => f.message).join("\n")}>
                      {" "}
                      ⚠ {findings.length} lint {findings.length === 1 ? "finding" : "findings"}
                    </span>
                  )}
                </div>
              );
            })}
          </div>
        </div>
        {selected ? (
          <Details key={idOf(selected)} step={selected} schema={sch} writable={writable} edit={edit} lint={lint.get(rows.find((r) => r.step === selected)?.path || "") || []} />
        ) : (
          <section class="details" aria-label="Step details">
            <p>Select a step to see its properties. Keys: arrows move, Right/Left open and close groups, Alt+Up/Down move the step, Alt+Left/Right take it out of its group or into the group above, Delete deletes it.</p>
          </section>
        )}
      </div>
      {palette && (
        <Dialog title="Add a step" onClose={() => setPalette(false)}>
          <Palette schema={sch} onPick={add} />
        </Dialog>
      )}
      {review && (
        <ReviewDialog review={review} busy={busy} onCancel={() => (setReview(null), release())} onConfirm={confirmSave} />
      )}
    </div>
  );
}

const ids = new WeakMap<Json, number>();
let nextID = 0;
function idOf(o: Json): number {
  let n = ids.get(o);
  if (n === undefined) ids.set(o, (n = ++nextID));
  return n;
}

/** ownerGroup is the group that holds target, null at the top level. */
function ownerGroup(steps: Json[], target: Json, owner: Json | null = null): Json | null {
  for (const s of steps) {
    if (s === target) return owner;
    if (isGroup(s)) {
      const r = ownerGroup(s.Steps || [], target, s);
      if (r) return r;
    }
  }
  return null;
}

function findParent(steps: Json[], target: Json): Json[] | null {
  if (steps.includes(target)) return steps;
  for (const s of steps) {
    if (isGroup(s)) {
      const r = findParent(s.Steps || [], target);
      if (r) return r;
    }
  }
  return null;
}

function ReviewDialog(props: { review: DiffResult; busy: boolean; onCancel: () => void; onConfirm: (comment: string) => void }) {
  const [comment, setComment] = useState("");
  return (
    <Dialog title="Review changes" onClose={props.onCancel}>
      <DiffList diff={props.review} />
      <label class="field">
        <span>Comment (kept in the history)</span>
        <input value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
      </label>
      <div class="buttons">
        <button class="primary" disabled={props.busy} onClick={() => props.onConfirm(comment)}>
          Confirm save
        </button>
        <button onClick={props.onCancel}>Cancel</button>
      </div>
    </Dialog>
  );
}

function Palette(props: { schema: Schema; onPick: (c: string) => void }) {
  const [q, setQ] = useState("");
  const all = useMemo(() => props.schema.concrete("SMS_TaskSequence_Step"), [props.schema]);
  const shown = all.filter((c) => (label(c) + " " + c).toLowerCase().includes(q.toLowerCase()));
  return (
    <div class="palette">
      <label class="field">
        <span>Filter step types</span>
        <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} autoFocus />
      </label>
      <ul aria-label="Step types">
        {shown.map((c) => (
          <li key={c}>
            <button onClick={() => props.onPick(c)}>
              <span aria-hidden="true" class="icon">
                {icon(c)}
              </span>{" "}
              {label(c)} <small>{c}</small>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

const baseProps = new Set(["Name", "Description", "Enabled", "ContinueOnError", "Condition", "Steps"]);

let switches = 0;

function Switch(props: { label: string; checked: boolean; disabled?: boolean; onChange: (v: boolean) => void }) {
  const id = useMemo(() => "sw-" + ++switches, []);
  return (
    <div class="switch-field">
      <span id={id}>{props.label}</span>
      <button
        role="switch"
        aria-checked={props.checked}
        aria-labelledby={id}
        disabled={props.disabled}
        class={"switch" + (props.checked ? " on" : "")}
        onClick={() => props.onChange(!props.checked)}
      >
        <span aria-hidden="true">{props.checked ? "On" : "Off"}</span>
      </button>
    </div>
  );
}

function Details(props: { step: Json; schema: Schema; writable: boolean; edit: (fn: () => void) => void; lint: LintFinding[] }) {
  const { step, schema: sch, writable, edit } = props;
  const c = cls(step);
  const typed = sch.props(c).filter((p) => !baseProps.has(p.name));
  const set = (name: string, v: unknown) => edit(() => (v === undefined ? delete step[name] : (step[name] = v)));
  return (
    <section class="details" aria-label="Step details">
      <h2>
        <span aria-hidden="true">{icon(c)}</span> {label(c)}
      </h2>
      {props.lint.length > 0 && (
        <ul class="lint-list" aria-label="Lint findings">
          {props.lint.map((f, i) => (
            <li key={i} class={f.severity}>
              {f.rule}: {f.message}
            </li>
          ))}
        </ul>
      )}
      <Switch label="Enabled" checked={step.Enabled !== false} disabled={!writable} onChange={(v) => set("Enabled", v)} />
      <Switch label="Continue on error" checked={step.ContinueOnError === true} disabled={!writable} onChange={(v) => set("ContinueOnError", v)} />
      <label class="field">
        <span>Name</span>
        <input value={step.Name ?? ""} readOnly={!writable} onInput={(e) => set("Name", e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>Description</span>
        <textarea rows={2} value={step.Description ?? ""} readOnly={!writable} onInput={(e) => set("Description", e.currentTarget.value)} />
      </label>
      <ConditionEditor step={step} schema={sch} writable={writable} edit={edit} />
      {typed.length > 0 && <h3>Properties</h3>}
      {typed.map((p) => (
        <Field key={c + p.name} prop={p} value={step[p.name]} writable={writable} schema={sch} onChange={(v) => set(p.name, v)} />
      ))}
    </section>
  );
}

function Field(props: { prop: Prop; value: any; writable: boolean; schema: Schema; onChange: (v: any) => void }) {
  const { prop: p, value, writable } = props;
  const name = p.name + (p.nullable ? "" : " (required)");
  if (p.type === "Edm.Boolean" && !p.collection) {
    return <Switch label={p.name} checked={value === true} disabled={!writable} onChange={props.onChange} />;
  }
  if (p.allowed && !p.collection) {
    return (
      <label class="field">
        <span>{name}</span>
        <select
          aria-label={name}
          value={value ?? ""}
          disabled={!writable}
          onChange={(e) => {
            const v = e.currentTarget.value;
            props.onChange(v === "" && p.nullable ? undefined : p.type.startsWith("Edm.Int") ? Number(v) : v);
          }}
        >
          {p.nullable && <option value="">(not set)</option>}
          {p.allowed.map((a) => (
            <option key={a} value={a}>
              {a || "(empty)"}
            </option>
          ))}
        </select>
      </label>
    );
  }
  if (p.packageRef && !p.collection) {
    return <PackagePicker label={name} value={value ?? ""} writable={writable} schema={props.schema} onChange={props.onChange} />;
  }
  if (p.type.startsWith("Edm.Int") && !p.collection) {
    return (
      <label class="field">
        <span>{name}</span>
        <input type="number" value={value ?? ""} readOnly={!writable} onInput={(e) => props.onChange(e.currentTarget.value === "" ? undefined : Number(e.currentTarget.value))} />
      </label>
    );
  }
  if (p.type.startsWith("Edm.") && !p.collection) {
    const long = typeof value === "string" && (value.length > 60 || value.includes("\n"));
    return (
      <label class="field">
        <span>{name}</span>
        {long ? (
          <textarea rows={4} value={value ?? ""} readOnly={!writable} onInput={(e) => props.onChange(e.currentTarget.value)} />
        ) : (
          <input value={value ?? ""} readOnly={!writable} onInput={(e) => props.onChange(e.currentTarget.value)} />
        )}
      </label>
    );
  }
  return <JsonField label={name} value={value} writable={writable} onChange={props.onChange} />;
}

function JsonField(props: { label: string; value: any; writable: boolean; onChange: (v: any) => void }) {
  const [text, setText] = useState(() => (props.value === undefined ? "" : JSON.stringify(props.value, null, 1)));
  const [bad, setBad] = useState("");
  return (
    <label class="field">
      <span>{props.label} (JSON)</span>
      <textarea
        rows={4}
        class="mono"
        value={text}
        readOnly={!props.writable}
        aria-invalid={bad ? true : undefined}
        onInput={(e) => {
          const t = e.currentTarget.value;
          setText(t);
          try {
            props.onChange(t.trim() === "" ? undefined : JSON.parse(t));
            setBad("");
          } catch (err) {
            setBad(String(err));
          }
        }}
      />
      {bad && <small class="error">{bad}</small>}
    </label>
  );
}

function PackagePicker(props: { label: string; value: string; writable: boolean; schema: Schema; onChange: (v: string) => void }) {
  const [q, setQ] = useState("");
  const [found, setFound] = useState<Json[]>([]);
  useEffect(() => {
    if (q.trim().length < 2) return setFound([]);
    const t = setTimeout(async () => {
      const sets = props.schema.setsOf("SMS_PackageBaseclass");
      const f = q.replace(/'/g, "''");
      const all = await Promise.all(
        sets.map((s) =>
          call<Json>("GET", `/odata/${s}?$select=PackageID,Name&$top=10&$filter=${encodeURIComponent(`contains(Name,'${f}') or contains(PackageID,'${f}')`)}`)
            .then((r) => (r.value as Json[]).map((x) => ({ ...x, set: s })))
            .catch(() => [] as Json[]),
        ),
      );
      setFound(all.flat().slice(0, 20));
    }, 200);
    return () => clearTimeout(t);
  }, [q]);
  return (
    <div class="field picker">
      <label>
        <span>{props.label}</span>
        <input value={props.value} readOnly={!props.writable} onInput={(e) => props.onChange(e.currentTarget.value)} />
      </label>
      {props.writable && (
        <label>
          <span>Search packages for {props.label}</span>
          <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        </label>
      )}
      {found.length > 0 && (
        <ul class="found">
          {found.map((p) => (
            <li key={p.set + p.PackageID}>
              <button
                onClick={() => {
                  props.onChange(p.PackageID);
                  setQ("");
                }}
              >
                {p.PackageID} {p.Name} <small>{p.set}</small>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

const varClass = "SMS_TaskSequence_VariableConditionExpression";
const opClass = "SMS_TaskSequence_ConditionOperator";

/** ConditionEditor edits a step's condition: its operands combined with
 * "all" (and) or "any" (or); variable tests edited in place (the operators
 * from the schema's AllowedValues), added and removed; other tests shown
 * in words and removable. */
function ConditionEditor(props: { step: Json; schema: Schema; writable: boolean; edit: (fn: () => void) => void }) {
  const { step, writable, edit } = props;
  const top: Json[] = step.Condition?.Operands || [];
  const any = top.length === 1 && cls(top[0]) === opClass && String(top[0].OperatorType).toLowerCase() === "or";
  const list: Json[] = any ? top[0].Operands || [] : top;
  const operators = props.schema.props(varClass).find((p) => p.name === "Operator")?.allowed || ["equals", "exists"];
  const [v, setV] = useState({ Variable: "", Operator: operators.includes("equals") ? "equals" : operators[0], Value: "" });
  const kinds = useMemo(() => props.schema.concrete("SMS_TaskSequence_ConditionExpression"), [props.schema]);
  const [kind, setKind] = useState(varClass);
  const push = (o: Json) => {
    if (!step.Condition) step.Condition = { Operands: [] };
    if (any) list.push(o);
    else (step.Condition.Operands = step.Condition.Operands || []).push(o);
  };
  const noValue = (op: string) => /exists/i.test(op);
  const setMode = (toAny: boolean) =>
    edit(() => {
      if (toAny === any || list.length === 0) return;
      step.Condition.Operands = toAny ? [{ "@odata.type": "#AdminService." + opClass, OperatorType: "or", Operands: list }] : list;
    });
  return (
    <fieldset class="condition">
      <legend>Condition</legend>
      <p>{condition(step.Condition) || "Always runs (no condition)."}</p>
      {list.length > 1 && (
        <label class="field inline">
          <span>Run when</span>
          <select aria-label="Run when" value={any ? "any" : "all"} disabled={!writable} onChange={(e) => setMode(e.currentTarget.value === "any")}>
            <option value="all">all of these hold</option>
            <option value="any">any of these holds</option>
          </select>
        </label>
      )}
      {list.length > 0 && (
        <ul>
          {list.map((o, i) => (
            <li key={i}>
              {cls(o) === varClass && writable ? (
                <span class="add-condition">
                  <label class="field inline">
                    <span>Variable {i + 1}</span>
                    <input value={o.Variable ?? ""} onInput={(e) => edit(() => (o.Variable = e.currentTarget.value))} />
                  </label>
                  <label class="field inline">
                    <span>Operator {i + 1}</span>
                    <select
                      aria-label={`Operator ${i + 1}`}
                      value={o.Operator}
                      onChange={(e) =>
                        edit(() => {
                          o.Operator = e.currentTarget.value;
                          if (noValue(o.Operator)) delete o.Value;
                        })
                      }
                    >
                      {operators.map((x) => (
                        <option key={x}>{x}</option>
                      ))}
                    </select>
                  </label>
                  {!noValue(o.Operator) && (
                    <label class="field inline">
                      <span>Value {i + 1}</span>
                      <input value={o.Value ?? ""} onInput={(e) => edit(() => (o.Value = e.currentTarget.value))} />
                    </label>
                  )}
                </span>
              ) : writable && cls(o) !== opClass && props.schema.types.has(cls(o)) ? (
                <span class="add-condition">
                  <strong>{label(cls(o)).replace(/ Condition Expression$/, "")}</strong>
                  {props.schema
                    .props(cls(o))
                    .filter((p) => p.type.startsWith("Edm.") && !p.collection)
                    .map((p) => (
                      <Field
                        key={p.name}
                        prop={{ ...p, name: `${p.name} ${i + 1}` }}
                        value={o[p.name]}
                        writable={writable}
                        schema={props.schema}
                        onChange={(v) => edit(() => (v === undefined ? delete o[p.name] : (o[p.name] = v)))}
                      />
                    ))}
                </span>
              ) : (
                <span>{condition({ Operands: [o] }).slice(3)} </span>
              )}
              {writable && (
                <button
                  aria-label={`Remove condition ${i + 1}`}
                  onClick={() =>
                    edit(() => {
                      list.splice(i, 1);
                      if (any && list.length === 1) step.Condition.Operands = list;
                      if (list.length === 0) delete step.Condition;
                    })
                  }
                >
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {writable && (
        <label class="field inline">
          <span>New test</span>
          <select aria-label="New test" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {label(k).replace(/ Condition Expression$/, "")}
              </option>
            ))}
          </select>
        </label>
      )}
      {writable && kind !== varClass && (
        <button
          onClick={() =>
            edit(() => {
              const o: Json = { "@odata.type": "#AdminService." + kind };
              for (const p of props.schema.props(kind)) {
                if (!p.nullable && p.type.startsWith("Edm.") && !p.collection) o[p.name] = p.allowed?.[0] ?? (p.type === "Edm.Boolean" ? false : p.type.startsWith("Edm.Int") ? 0 : "");
              }
              push(o);
            })
          }
        >
          Add condition
        </button>
      )}
      {writable && kind === varClass && (
        <div class="add-condition">
          <label class="field inline">
            <span>Variable</span>
            <input value={v.Variable} onInput={(e) => setV({ ...v, Variable: e.currentTarget.value })} />
          </label>
          <label class="field inline">
            <span>Operator</span>
            <select aria-label="Operator" value={v.Operator} onChange={(e) => setV({ ...v, Operator: e.currentTarget.value })}>
              {operators.map((o) => (
                <option key={o}>{o}</option>
              ))}
            </select>
          </label>
          {!noValue(v.Operator) && (
            <label class="field inline">
              <span>Value</span>
              <input value={v.Value} onInput={(e) => setV({ ...v, Value: e.currentTarget.value })} />
            </label>
          )}
          <button
            disabled={!v.Variable.trim()}
            onClick={() =>
              edit(() => {
                const o: Json = { "@odata.type": "#AdminService." + varClass, Variable: v.Variable.trim(), Operator: v.Operator };
                if (!noValue(v.Operator)) o.Value = v.Value;
                push(o);
                setV({ ...v, Variable: "", Value: "" });
              })
            }
          >
            Add condition
          </button>
        </div>
      )}
    </fieldset>
  );
}
