// The package's other views: references drawn as a graph, the plan of a
// described machine, distribution per DP, export and import.
import { useEffect, useState } from "preact/hooks";
import { call, can, session } from "./api";
import { Link } from "./main";
import { Json } from "./words";

interface Node {
  id: string;
  name: string;
  kind: "self" | "uses" | "usedBy";
  dangling?: boolean;
}

export function References(props: { id: string; pkg: Json }) {
  const { id } = props;
  const [nodes, setNodes] = useState<Node[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    (async () => {
      try {
        const q = encodeURIComponent(id);
        const [uses, usedBy] = await Promise.all([
          call<Json>("GET", `/odata/SMS_TaskSequencePackage('${q}')?$expand=ReferencedPackages`),
          call<Json>("GET", `/odata/SMS_TaskSequencePackage('${q}')?$expand=ReferencedBy`),
        ]);
        const found = new Map<string, Json>();
        for (const p of uses.ReferencedPackages || []) found.set(String(p.PackageID).toUpperCase(), p);
        const out: Node[] = [{ id, name: props.pkg.Name || id, kind: "self" }];
        const seen = new Set<string>();
        for (const r of (uses.References || []) as Json[]) {
          const key = String(r.Package).toUpperCase();
          if (seen.has(key)) continue;
          seen.add(key);
          const p = found.get(key);
          out.push({ id: r.Package, name: p?.Name || (r.Type === 1 ? "application" : ""), kind: "uses", dangling: !p && r.Type !== 1 });
        }
        for (const p of (usedBy.ReferencedBy || []) as Json[]) out.push({ id: p.PackageID, name: p.Name, kind: "usedBy" });
        setNodes(out);
      } catch (e: any) {
        setError(e.message);
      }
    })();
  }, [id]);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!nodes) return <p aria-busy="true">Loading references…</p>;
  const uses = nodes.filter((n) => n.kind === "uses");
  const usedBy = nodes.filter((n) => n.kind === "usedBy");
  const rowH = 44;
  const h = Math.max(uses.length, usedBy.length, 1) * rowH + 40;
  const mid = h / 2;
  const yOf = (i: number, n: number) => (h - n * rowH) / 2 + i * rowH + rowH / 2;
  const box = (x: number, y: number, n: Node) => (
    <g key={n.kind + n.id} class={"node " + n.kind + (n.dangling ? " dangling" : "")}>
      <rect x={x} y={y - 16} width={200} height={32} rx={6} />
      <text x={x + 10} y={y + 5}>
        {(n.id + " " + (n.name || "")).slice(0, 28)}
        {n.dangling ? " (missing)" : ""}
      </text>
    </g>
  );
  return (
    <div class="refs">
      <svg role="img" aria-label={`Reference graph of ${id}: uses ${uses.length}, used by ${usedBy.length}`} viewBox={`0 0 760 ${h}`} class="graph">
        {usedBy.map((n, i) => (
          <line key={"l" + n.id} x1={220} y1={yOf(i, usedBy.length)} x2={280} y2={mid} class="edge" />
        ))}
        {uses.map((n, i) => (
          <line key={"r" + n.id} x1={480} y1={mid} x2={540} y2={yOf(i, uses.length)} class={"edge" + (n.dangling ? " dangling" : "")} />
        ))}
        {usedBy.map((n, i) => box(20, yOf(i, usedBy.length), n))}
        {box(280, mid, nodes[0])}
        {uses.map((n, i) => box(540, yOf(i, uses.length), n))}
      </svg>
      <div class="cols">
        <section aria-label="Used by">
          <h2>Used by ({usedBy.length})</h2>
          <ul>
            {usedBy.map((n) => (
              <li key={n.id}>
                <Link href={`/packages/${encodeURIComponent(n.id)}`}>{n.name || n.id}</Link> {n.id}
              </li>
            ))}
          </ul>
        </section>
        <section aria-label="Uses">
          <h2>Uses ({uses.length})</h2>
          <ul>
            {uses.map((n) => (
              <li key={n.id} class={n.dangling ? "dangling" : ""}>
                {n.id} {n.name} {n.dangling && <strong>dangling: no such package</strong>}
              </li>
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}

interface PlanStep {
  path: string;
  name: string;
  type: string;
  outcome: string;
  reason?: string;
  steps?: PlanStep[];
}

export function Plan(props: { id: string }) {
  const [vars, setVars] = useState("");
  const [env, setEnv] = useState("FullOS");
  const [machine, setMachine] = useState("{}");
  const [steps, setSteps] = useState<PlanStep[] | null>(null);
  const [error, setError] = useState("");
  const run = async (e: Event) => {
    e.preventDefault();
    try {
      const variables: Record<string, string> = {};
      for (const line of vars.split("\n")) {
        const i = line.indexOf("=");
        if (i > 0) variables[line.slice(0, i).trim()] = line.slice(i + 1).trim();
      }
      const m = JSON.parse(machine || "{}");
      m.environment = env;
      const r = await call<Json>("POST", "/tsprov/v1/plan", { PackageID: props.id, Variables: variables, Machine: m });
      setSteps(r.steps || []);
      setError("");
    } catch (err: any) {
      setError(err.message || String(err));
    }
  };
  const list = (ss: PlanStep[]) => (
    <ul>
      {ss.map((s) => (
        <li key={s.path} class={"plan " + s.outcome}>
          <strong>{s.name}</strong> — {s.outcome}
          {s.reason ? `: ${s.reason}` : ""}
          {s.steps && list(s.steps)}
        </li>
      ))}
    </ul>
  );
  return (
    <div>
      <form class="plan-form" aria-label="Plan" onSubmit={run}>
        <label class="field">
          <span>Starts in</span>
          <select aria-label="Starts in" value={env} onChange={(e) => setEnv(e.currentTarget.value)}>
            <option value="FullOS">Full OS</option>
            <option value="WinPE">Windows PE</option>
          </select>
        </label>
        <label class="field">
          <span>Variables (NAME=value, one a line)</span>
          <textarea rows={4} class="mono" value={vars} onInput={(e) => setVars(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Machine description (JSON, see docs/history-diff-lint-plan.md)</span>
          <textarea rows={6} class="mono" value={machine} onInput={(e) => setMachine(e.currentTarget.value)} />
        </label>
        <button class="primary" type="submit">
          Show the plan
        </button>
      </form>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {steps && <section aria-label="Steps that run">{list(steps)}</section>}
    </div>
  );
}

const states: Record<number, string> = { 1: "Success", 2: "In progress", 3: "Error" };

/** Distribution shows, per DP, the state and progress of the package and
 * of every package it refers to. */
export function Distribution(props: { id: string; pkg: Json }) {
  const [rows, setRows] = useState<Json[] | null>(null);
  const [error, setError] = useState("");
  const ids = [props.id, ...((props.pkg.References || []) as Json[]).filter((r) => r.Type !== 1).map((r) => String(r.Package))];
  const key = ids.join(",");
  useEffect(() => {
    const filter = `PackageID in (${ids.map((i) => `'${i.replace(/'/g, "''")}'`).join(",")})`;
    const load = () =>
      call<Json>("GET", `/odata/SMS_DistributionDPStatus?$orderby=PackageID,Name&$filter=${encodeURIComponent(filter)}`)
        .then((r) => setRows(r.value))
        .catch((e) => setError(e.message));
    load();
    const t = setInterval(load, 5000);
    return () => clearInterval(t);
  }, [key]);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!rows) return <p aria-busy="true">Loading…</p>;
  if (rows.length === 0) return <p>Neither this package nor the packages it uses are on a distribution point.</p>;
  return (
    <table class="grid" aria-label="Distribution points">
      <thead>
        <tr>
          <th scope="col">Package</th>
          <th scope="col">Distribution point</th>
          <th scope="col">Status</th>
          <th scope="col">Progress</th>
          <th scope="col">Updated</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => {
          const total = Number(r.BytesTotal || 0);
          const done = Number(r.BytesDone || 0);
          const pct = r.MessageState === 1 ? 100 : total > 0 ? Math.floor((done * 100) / total) : 0;
          const dp = r.Name || r.NalPath;
          return (
            <tr key={r.PackageID + r.NalPath}>
              <td>{r.PackageID}</td>
              <td>{dp}</td>
              <td class={r.MessageState === 3 ? "error" : ""}>{states[r.MessageState] ?? String(r.MessageState ?? "")}</td>
              <td>
                <progress max={100} value={pct} aria-label={`${r.PackageID} on ${dp}`}>
                  {pct}%
                </progress>{" "}
                {pct}%{total > 0 && r.MessageState === 2 ? ` (${Math.round(done / 1048576)} of ${Math.round(total / 1048576)} MiB)` : ""}
              </td>
              <td>{r.LastUpdateDate ? new Date(r.LastUpdateDate).toLocaleString() : ""}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Table(props: { label: string; rows: Json[] }) {
  if (props.rows.length === 0) return null;
  const cols = Object.keys(props.rows[0]);
  return (
    <table class="grid" aria-label={props.label}>
      <caption>{props.label}</caption>
      <thead>
        <tr>
          {cols.map((k) => (
            <th scope="col" key={k}>
              {k}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((o, i) => (
          <tr key={i}>
            {cols.map((k) => (
              <td key={k}>{typeof o[k] === "object" && o[k] !== null ? JSON.stringify(o[k]) : String(o[k] ?? "")}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Exchange(props: { id: string }) {
  const [status, setStatus] = useState("");
  const [error, setError] = useState("");
  const [plan, setPlan] = useState<Json | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const [map, setMap] = useState("");
  const canImport = can("SMS_TaskSequencePackage", "Create");
  const exportZip = async () => {
    setError("");
    try {
      const res = await fetch("/tsprov/v1/export", {
        method: "POST",
        credentials: "omit",
        headers: { Authorization: session()?.authorization || "", "Content-Type": "application/json" },
        body: JSON.stringify({ PackageIDs: [props.id], WithDependence: true }),
      });
      if (!res.ok) throw new Error((await res.json().catch(() => null))?.error?.message || res.statusText);
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement("a");
      a.href = url;
      a.download = `${props.id}.zip`;
      a.click();
      URL.revokeObjectURL(url);
      setStatus("Exported");
    } catch (e: any) {
      setError(e.message);
    }
  };
  const importZip = async (dry: boolean) => {
    if (!file) return;
    setError("");
    try {
      const q = new URLSearchParams();
      if (dry) q.set("dryRun", "true");
      for (const line of map.split("\n")) if (line.includes("=")) q.append("map", line.trim());
      const qs = q.toString();
      const res = await fetch(`/tsprov/v1/import${qs ? "?" + qs : ""}`, {
        method: "POST",
        credentials: "omit",
        headers: { Authorization: session()?.authorization || "", "Content-Type": "application/zip" },
        body: file,
      });
      const body = await res.json();
      if (!res.ok) throw new Error(body?.error?.message || res.statusText);
      setPlan(body);
      setStatus(dry ? "Dry run: nothing was changed" : "Imported");
    } catch (e: any) {
      setError(e.message);
    }
  };
  return (
    <div>
      <h2>Export</h2>
      <p>The Export-CMTaskSequence zip of this package and what it uses.</p>
      <button onClick={exportZip}>Export zip</button>
      {canImport && (
        <>
          <h2>Import</h2>
          <label class="field">
            <span>File to import (a zip from Export)</span>
            <input type="file" accept=".zip,application/zip" onChange={(e) => (setFile(e.currentTarget.files?.[0] || null), setPlan(null))} />
          </label>
          <label class="field">
            <span>Map references (SOURCE=TARGET, one a line; see docs/export-import.md)</span>
            <textarea rows={3} class="mono" value={map} onInput={(e) => (setMap(e.currentTarget.value), setPlan(null))} />
          </label>
          <div class="buttons">
            <button disabled={!file} onClick={() => importZip(true)}>
              Dry run
            </button>
            <button disabled={!file || !plan?.DryRun} onClick={() => importZip(false)}>
              Import
            </button>
          </div>
        </>
      )}
      {status && <p role="status">{status}</p>}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {plan && (
        <section aria-label="Import plan">
          <Table label="Objects" rows={plan.Objects || []} />
          <Table label="References remapped" rows={plan.Plan || []} />
          <Table label="Problems" rows={plan.Problems || []} />
        </section>
      )}
    </div>
  );
}
