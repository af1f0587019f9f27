// A package: its heading, the tabs (steps, references, history, lint,
// plan, distribution, export) and the live subscription to its changes.
import { useEffect, useRef, useState } from "preact/hooks";
import { call, can, odata } from "./api";
import { Editor, LintFinding } from "./editor";
import { watch } from "./live";
import { navigate } from "./main";
import { Json } from "./words";
import { Dialog, DiffList, DiffResult } from "./ui";
import { Distribution, Exchange, Plan, References } from "./tabs";

const tabs = ["Steps", "References", "History", "Lint", "Plan", "Distribution", "Export"];

interface Revision {
  Revision: number;
  Time: string;
  Operation: string;
  Method?: string;
  User: string;
  Server: string;
  Comment?: string;
}

async function revisions(id: string): Promise<Revision[]> {
  let url: string | null = `/tsprov/v1/history/${encodeURIComponent(id)}`;
  const out: Revision[] = [];
  while (url) {
    const page: Json = await call<Json>("GET", url);
    out.push(...(page.value as Revision[]));
    const next: string | undefined = page["@odata.nextLink"];
    url = next ? new URL(next, location.href).pathname + new URL(next, location.href).search : null;
  }
  return out;
}

export function PackageScreen(props: { id: string; tab: string }) {
  const { id } = props;
  const [pkg, setPkg] = useState<Json | null>(null);
  const [error, setError] = useState("");
  const [lint, setLint] = useState<{ findings: LintFinding[]; map: Map<string, LintFinding[]> }>({ findings: [], map: new Map() });
  const [historyRev, setHistoryRev] = useState(0);
  const tabRefs = useRef<(HTMLButtonElement | null)[]>([]);
  const tab = tabs.find((t) => t.toLowerCase() === props.tab) || "Steps";

  const loadPkg = async () => {
    try {
      const res = await odata()
        .SMS_TaskSequencePackage(id)
        .query((b) => b.select("PackageID", "Name", "Description", "SedoObjectVersion", "References"));
      setPkg(res.data as Json);
    } catch (e: any) {
      setError(e.message || String(e));
    }
  };
  const loadLint = async () => {
    try {
      const r = await call<Json>("POST", "/tsprov/v1/lint", { PackageID: id });
      const findings = (r.result?.findings || []) as LintFinding[];
      const map = new Map<string, LintFinding[]>();
      for (const f of findings) map.set(f.step, [...(map.get(f.step) || []), f]);
      setLint({ findings, map });
    } catch {
      /* lint is a help, not a requirement */
    }
  };
  // lint waits for the tree on the Steps tab (a big sequence's lint would
  // compete with its first read), else starts at once
  const linted = useRef(false);
  const lintOnce = () => {
    if (linted.current) return;
    linted.current = true;
    loadLint();
  };
  useEffect(() => {
    loadPkg();
    if (props.tab !== "steps") lintOnce();
  }, [id]);
  useEffect(() => {
    if (props.tab !== "steps") lintOnce();
  }, [props.tab]);

  // live: who changed the package, told to the open views
  useEffect(
    () =>
      watch(id, async (c) => {
        const version = String(c.TargetInstance?.SedoObjectVersion ?? "");
        let by = "another session";
        try {
          const revs = await revisions(id);
          const lastRev = revs[revs.length - 1];
          if (lastRev) by = lastRev.User;
        } catch {
          /* keep the generic name */
        }
        dispatchEvent(new CustomEvent("tsprov:changed", { detail: { version, by } }));
        loadPkg();
        loadLint();
        setHistoryRev((n) => n + 1);
      }),
    [id],
  );

  if (error) return <p role="alert" class="error">{error}</p>;
  if (!pkg) return <p aria-busy="true">Loading…</p>;

  const select = (t: string) => navigate(`/packages/${encodeURIComponent(id)}/${t.toLowerCase()}`);
  const onTabKey = (e: KeyboardEvent, i: number) => {
    let n = i;
    if (e.key === "ArrowRight") n = (i + 1) % tabs.length;
    else if (e.key === "ArrowLeft") n = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === "Home") n = 0;
    else if (e.key === "End") n = tabs.length - 1;
    else return;
    e.preventDefault();
    select(tabs[n]);
    requestAnimationFrame(() => tabRefs.current[n]?.focus());
  };

  return (
    <section class="package">
      <h1>{pkg.Name || id}</h1>
      <p class="sub">
        {id} · version {pkg.SedoObjectVersion ? String(pkg.SedoObjectVersion).slice(0, 8) : "—"} {pkg.Description ? "· " + pkg.Description : ""}
      </p>
      <div role="tablist" aria-label="Package views" class="tabs">
        {tabs.map((t, i) => (
          <button
            key={t}
            ref={(el) => {
              tabRefs.current[i] = el;
            }}
            role="tab"
            id={"tab-" + t}
            aria-selected={t === tab}
            aria-controls={"panel-" + t}
            tabIndex={t === tab ? 0 : -1}
            onClick={() => select(t)}
            onKeyDown={(e) => onTabKey(e, i)}
          >
            {t}
            {t === "Lint" && lint.findings.length > 0 ? ` (${lint.findings.length})` : ""}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={"panel-" + tab} aria-labelledby={"tab-" + tab} class="panel">
        {tab === "Steps" && <Editor id={id} pkg={pkg} lint={lint.map} onLoaded={lintOnce} onSaved={() => (loadPkg(), loadLint(), setHistoryRev((n) => n + 1))} />}
        {tab === "History" && <History id={id} rev={historyRev} onRestored={() => (loadPkg(), loadLint())} />}
        {tab === "Lint" && <Lint findings={lint.findings} />}
        {tab === "References" && <References id={id} pkg={pkg} />}
        {tab === "Plan" && <Plan id={id} />}
        {tab === "Distribution" && <Distribution id={id} pkg={pkg} />}
        {tab === "Export" && <Exchange id={id} />}
      </div>
    </section>
  );
}

function Lint(props: { findings: LintFinding[] }) {
  if (props.findings.length === 0) return <p>No lint findings.</p>;
  return (
    <table class="grid" aria-label="Lint findings">
      <thead>
        <tr>
          <th scope="col">Severity</th>
          <th scope="col">Rule</th>
          <th scope="col">Step</th>
          <th scope="col">Finding</th>
        </tr>
      </thead>
      <tbody>
        {props.findings.map((f, i) => (
          <tr key={i} class={f.severity}>
            <td>{f.severity}</td>
            <td>{f.rule}</td>
            <td>{f.stepName}</td>
            <td>
              {f.message}
              {f.hint && <div class="hint">{f.hint}</div>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function History(props: { id: string; rev: number; onRestored: () => void }) {
  const { id } = props;
  const [revs, setRevs] = useState<Revision[]>([]);
  const [picked, setPicked] = useState<number[]>([]);
  const [diff, setDiff] = useState<DiffResult | null>(null);
  const [error, setError] = useState("");
  const [status, setStatus] = useState("");
  const [restore, setRestore] = useState<number | null>(null);
  const writable = can("SMS_TaskSequencePackage", "Modify");
  const load = () =>
    revisions(id)
      .then((r) => setRevs(r.reverse()))
      .catch((e) => setError(e.message));
  useEffect(() => {
    load();
  }, [id, props.rev]);

  const compare = async () => {
    const [a, b] = [...picked].sort((x, y) => x - y);
    try {
      setDiff(await call<DiffResult>("GET", `/tsprov/v1/diff?from=${encodeURIComponent(id + "@" + a)}&to=${encodeURIComponent(id + "@" + b)}`));
      setError("");
    } catch (e: any) {
      setError(e.message);
    }
  };
  const doRestore = async (n: number) => {
    try {
      await call("POST", `/tsprov/v1/history/${encodeURIComponent(id)}/${n}/restore`);
      setRestore(null);
      setStatus("Restored");
      props.onRestored();
      load();
    } catch (e: any) {
      setRestore(null);
      setError(e.message);
    }
  };

  return (
    <div>
      <div class="toolbar">
        <button disabled={picked.length !== 2} onClick={compare}>
          Compare
        </button>
        <span>Select two revisions to compare.</span>
        {status && <span role="status">{status}</span>}
      </div>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <table class="grid" aria-label="Revisions">
        <thead>
          <tr>
            <th scope="col">Compare</th>
            <th scope="col">Revision</th>
            <th scope="col">Who</th>
            <th scope="col">When</th>
            <th scope="col">Change</th>
            <th scope="col">Comment</th>
            {writable && <th scope="col">Restore</th>}
          </tr>
        </thead>
        <tbody>
          {revs.map((r) => (
            <tr key={r.Revision}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Select revision ${r.Revision}`}
                  checked={picked.includes(r.Revision)}
                  onChange={(e) => {
                    const on = e.currentTarget.checked;
                    setPicked(on ? [...picked, r.Revision].slice(-2) : picked.filter((x) => x !== r.Revision));
                  }}
                />
              </td>
              <td>{r.Revision}</td>
              <td>{r.User}</td>
              <td>
                <time dateTime={r.Time}>{new Date(r.Time).toLocaleString()}</time>
              </td>
              <td>{r.Method || r.Operation}</td>
              <td>{r.Comment || ""}</td>
              {writable && (
                <td>
                  {r.Operation !== "delete" && (
                    <button onClick={() => setRestore(r.Revision)}>Restore revision {r.Revision}</button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {diff && (
        <section aria-label="Diff" class="diff-region">
          <h2>
            Changes from revision {Math.min(...picked)} to {Math.max(...picked)}
          </h2>
          <DiffList diff={diff} />
        </section>
      )}
      {restore !== null && (
        <Dialog title={`Restore revision ${restore}?`} onClose={() => setRestore(null)}>
          <p>The package becomes what revision {restore} held, as a new revision; the history keeps every revision.</p>
          <div class="buttons">
            <button class="primary" onClick={() => doRestore(restore)}>
              Restore
            </button>
            <button onClick={() => setRestore(null)}>Cancel</button>
          </div>
        </Dialog>
      )}
    </div>
  );
}
