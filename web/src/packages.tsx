import { useEffect, useState } from "preact/hooks";
import { ApiError, odata } from "./api";
import { Link } from "./main";
import { Prop, schema } from "./schema";
import { subscribe } from "./live";

const pageSize = 25;
const colsKey = "tsprov.packageColumns";
const defaultCols = ["PackageID", "Name", "Description", "SourceDate", "ReferencesCount"];

type Row = Record<string, any>;

function show(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return v.map(show).join(", ");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function Packages() {
  const [props, setProps] = useState<Prop[]>([]);
  const [cols, setCols] = useState<string[]>(() => {
    try {
      return JSON.parse(localStorage.getItem(colsKey) || "") as string[];
    } catch {
      return defaultCols;
    }
  });
  const [search, setSearch] = useState(new URLSearchParams(location.search).get("q") || "");
  const [sort, setSort] = useState<{ col: string; desc: boolean }>({ col: "Name", desc: false });
  const [page, setPage] = useState(0);
  const [rows, setRows] = useState<Row[]>([]);
  const [count, setCount] = useState(0);
  const [error, setError] = useState("");
  const [picker, setPicker] = useState(false);
  const [tick, setTick] = useState(0); // bumped by the changes others make
  const [live, setLive] = useState("");

  // live: a package created, changed or deleted anywhere refreshes the page
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = subscribe("SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'SMS_TaskSequencePackage'", (c) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        setTick((n) => n + 1);
        setLive(`${c.Key} was ${c.Operation === "delete" ? "deleted" : c.Operation === "create" ? "created" : "changed"}; the list is up to date.`);
      }, 300);
    });
    return () => (clearTimeout(timer), stop());
  }, []);

  useEffect(() => {
    schema().then((s) =>
      setProps(s.props("SMS_TaskSequencePackage").filter((p) => !p.collection && p.type.startsWith("Edm.") && !(p.description || "").startsWith("Lazy"))),
    );
  }, []);

  useEffect(() => {
    let stale = false;
    const t = setTimeout(async () => {
      try {
        const res = await odata()
          .SMS_TaskSequencePackage()
          .query((b, q) => {
            const qa = q as any;
            let r = b.select(...(Array.from(new Set(["PackageID", "Name", ...cols])) as any)).top(pageSize).skip(page * pageSize).count();
            const text = search.trim();
            if (text) r = r.filter(q.Name.contains(text).or(q.PackageID.contains(text)));
            if (qa[sort.col]) r = r.orderBy(sort.desc ? qa[sort.col].desc() : qa[sort.col].asc());
            return r;
          });
        if (stale) return;
        setRows(res.data.value as Row[]);
        setCount(Number(res.data["@odata.count"] ?? 0));
        setError("");
      } catch (e: any) {
        if (!stale) setError(e instanceof ApiError ? e.message : e?.message || String(e));
      }
    }, 150);
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [search, sort.col, sort.desc, page, cols.join(","), tick]);

  const pages = Math.max(1, Math.ceil(count / pageSize));
  const toggleCol = (name: string) => {
    const next = cols.includes(name) ? cols.filter((c) => c !== name) : [...cols, name];
    setCols(next);
    localStorage.setItem(colsKey, JSON.stringify(next));
  };
  const shown = cols.includes("PackageID") ? cols : ["PackageID", ...cols];
  const withName = shown.includes("Name") ? shown : [...shown, "Name"];

  return (
    <section>
      <h1>Packages</h1>
      <div class="toolbar">
        <label class="field inline">
          <span>Search packages</span>
          <input
            type="search"
            value={search}
            placeholder="Name or PackageID"
            onInput={(e) => {
              setSearch(e.currentTarget.value);
              setPage(0);
            }}
          />
        </label>
        <div class="popover-anchor">
          <button aria-expanded={picker} aria-controls="column-picker" onClick={() => setPicker(!picker)}>
            Columns
          </button>
          {picker && (
            <fieldset
              id="column-picker"
              class="popover"
              onKeyDown={(e) => {
                if (e.key === "Escape") {
                  setPicker(false);
                  (document.querySelector("[aria-controls=column-picker]") as HTMLElement | null)?.focus();
                }
              }}
            >
              <legend>Columns shown</legend>
              {props.map((p) => (
                <label class="choice" key={p.name}>
                  <input type="checkbox" checked={withName.includes(p.name)} disabled={p.name === "PackageID" || p.name === "Name"} onChange={() => toggleCol(p.name)} />
                  {p.name}
                </label>
              ))}
            </fieldset>
          )}
        </div>
      </div>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {live && (
        <p role="status" class="muted">
          {live}
        </p>
      )}
      <table aria-label="Packages" class="grid">
        <thead>
          <tr>
            {withName.map((c) => (
              <th key={c} scope="col" aria-sort={sort.col === c ? (sort.desc ? "descending" : "ascending") : "none"}>
                <button class="sort" onClick={() => setSort({ col: c, desc: sort.col === c ? !sort.desc : false })}>
                  {c}
                  <span aria-hidden="true">{sort.col === c ? (sort.desc ? " ▼" : " ▲") : ""}</span>
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.PackageID}>
              {withName.map((c) =>
                c === "Name" ? (
                  <td key={c}>
                    <Link href={`/packages/${encodeURIComponent(r.PackageID)}`}>{r.Name || r.PackageID}</Link>
                  </td>
                ) : (
                  <td key={c}>{show(r[c])}</td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <div class="pager">
        <button onClick={() => setPage(page - 1)} disabled={page === 0}>
          Previous page
        </button>
        <span>
          Page {page + 1} of {pages} ({count} packages)
        </span>
        <button onClick={() => setPage(page + 1)} disabled={page + 1 >= pages}>
          Next page
        </button>
      </div>
    </section>
  );
}
