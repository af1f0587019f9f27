// Live: the changes of one package, from the server's event subscription
// (GET /tsprov/v1/subscribe, Server-Sent Events read with fetch so that the
// request carries the session's Authorization header).
import { session } from "./api";

export interface Change {
  Position: number;
  Operation: string;
  EventClass: string;
  Method?: string;
  Key: string;
  TargetInstance?: Record<string, any>;
}

/** watch calls onChange for each change of package id until the returned
 * function is called. */
export function watch(id: string, onChange: (c: Change) => void): () => void {
  return subscribe(`SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'SMS_TaskSequencePackage' AND TargetInstance.PackageID = '${id.replace(/'/g, "''")}'`, onChange);
}

/** subscribe calls onChange for each change a WQL event query selects
 * until the returned function is called; it reconnects after a failure,
 * from the last event seen. */
export function subscribe(query: string, onChange: (c: Change) => void): () => void {
  const ctl = new AbortController();
  let last = "";
  const run = async () => {
    while (!ctl.signal.aborted) {
      try {
        const h: Record<string, string> = { Accept: "text/event-stream", Authorization: session()?.authorization || "" };
        if (last) h["Last-Event-ID"] = last;
        const res = await fetch("/tsprov/v1/subscribe?query=" + encodeURIComponent(query), { headers: h, signal: ctl.signal, credentials: "omit" });
        if (!res.ok || !res.body) throw new Error(String(res.status));
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let data = "";
            let ev = "";
            for (const line of block.split("\n")) {
              if (line.startsWith("id:")) last = line.slice(3).trim();
              else if (line.startsWith("data:")) data += line.slice(5).trim();
              else if (line.startsWith("event:")) ev = line.slice(6).trim();
            }
            if (data && ev !== "error") {
              try {
                onChange(JSON.parse(data) as Change);
              } catch {
                /* not an event */
              }
            }
          }
        }
      } catch {
        if (ctl.signal.aborted) return;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  run();
  return () => ctl.abort();
}
