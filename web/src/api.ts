// The console's access to the API: the session (a bearer token kept in
// sessionStorage for the tab), the typed OData client generated from
// /odata/$metadata, and fetch for the /tsprov/v1 extensions.
import { FetchClient } from "@odata2ts/http-client-fetch";
import { TsprovService } from "../gen/TsprovService";

export interface Me {
  AdminID: number;
  LogonName: string;
  SignIn: string;
  Roles: string[];
  Scopes: string[];
  AllInstances: boolean;
  Permissions: Record<string, string[]>;
}

export interface Session {
  authorization: string; // "Bearer tsp_…"
  tokenID?: string; // the token the console made from a password, revoked at sign-out
  me: Me;
}

const storageKey = "tsprov.session";

// lockContext names this tab's console session to the SEDO locks
// (docs/locks-and-events.md): locks taken here belong to it.
export const lockContext: string = (() => {
  const k = "tsprov.lockContext";
  let v = sessionStorage.getItem(k);
  if (!v) {
    v = crypto.randomUUID();
    sessionStorage.setItem(k, v);
  }
  return v;
})();

let current: Session | null = (() => {
  try {
    const s = sessionStorage.getItem(storageKey);
    return s ? (JSON.parse(s) as Session) : null;
  } catch {
    return null;
  }
})();

export function session(): Session | null {
  return current;
}

export function setSession(s: Session | null): void {
  current = s;
  if (s) sessionStorage.setItem(storageKey, JSON.stringify(s));
  else sessionStorage.removeItem(storageKey);
  service = null;
}

export function can(cls: string, op: string): boolean {
  return !!current?.me.Permissions[cls]?.includes(op);
}

/** ApiError is an answer that is not 2xx, with the envelope's message. */
export class ApiError extends Error {
  constructor(public status: number, message: string, public code = "") {
    super(message);
  }
}

function headers(auth: string | undefined, extra?: Record<string, string>): Record<string, string> {
  const h: Record<string, string> = { ObjectLockContext: lockContext, ...extra };
  if (auth) h.Authorization = auth;
  return h;
}

async function errorOf(res: Response): Promise<ApiError> {
  let msg = `${res.status} ${res.statusText}`;
  let code = "";
  try {
    const body = await res.json();
    if (body?.error?.message) msg = body.error.message;
    if (body?.error?.code) code = String(body.error.code);
  } catch {
    /* not the envelope */
  }
  return new ApiError(res.status, msg, code);
}

/** call sends a request to the server with the session's credential. */
export async function call<T = any>(method: string, path: string, body?: unknown, extra?: Record<string, string>, auth?: string): Promise<T> {
  const init: RequestInit = { method, headers: headers(auth ?? current?.authorization, extra), credentials: "omit" };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  const res = await fetch(path, init);
  if (res.status === 401 && current && !auth) {
    setSession(null);
    location.assign("/");
  }
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return undefined as T;
  const ct = res.headers.get("Content-Type") || "";
  return (ct.includes("json") ? await res.json() : await res.text()) as T;
}

/** signIn proves who the user is; a user name and password is exchanged
 * for a short-lived token (the password is not kept). */
export async function signIn(kind: "token" | "password", token: string, user: string, password: string): Promise<Session> {
  let authorization: string;
  let tokenID: string | undefined;
  if (kind === "token") {
    authorization = "Bearer " + token.trim();
  } else {
    const bytes = new TextEncoder().encode(user + ":" + password);
    let bin = "";
    bytes.forEach((b) => (bin += String.fromCharCode(b)));
    const basic = "Basic " + btoa(bin);
    const made = await call<{ Token: string; TokenID: string }>("POST", "/tsprov/v1/tokens", { Description: "web console sign-in", ExpiresInDays: 1 }, undefined, basic);
    authorization = "Bearer " + made.Token;
    tokenID = made.TokenID;
  }
  const me = await call<Me>("GET", "/tsprov/v1/me", undefined, undefined, authorization);
  const s = { authorization, tokenID, me };
  setSession(s);
  return s;
}

export async function signOut(): Promise<void> {
  const s = current;
  if (s?.tokenID) {
    try {
      await call("DELETE", "/tsprov/v1/tokens/" + encodeURIComponent(s.tokenID));
    } catch {
      /* the token expires in a day anyway */
    }
  }
  setSession(null);
}

let service: TsprovService<FetchClient> | null = null;

/** odata is the client odata2ts generated from /odata/$metadata. */
export function odata(): TsprovService<FetchClient> {
  if (!service) {
    service = new TsprovService(new FetchClient({ headers: headers(current?.authorization), credentials: "omit" }), "/odata");
  }
  return service;
}

/** odataError turns the generated client's failure into an ApiError. */
export function odataError(e: any): ApiError {
  const status = e?.status ?? e?.cause?.status ?? 0;
  return new ApiError(status, e?.message || String(e));
}
