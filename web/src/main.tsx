import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, Me, Session, call, session, setSession, signIn, signOut } from "./api";
import { Packages } from "./packages";
import { PackageScreen } from "./package";
import "./style.css";

// The router: client routes are / (sign-in), /packages and
// /packages/{PackageID}[/{tab}]; the server answers each with index.html.
export function navigate(path: string): void {
  if (location.pathname + location.search === path) return;
  history.pushState(null, "", path);
  dispatchEvent(new PopStateEvent("popstate"));
}

function usePath(): string {
  const [path, setPath] = useState(location.pathname + location.search);
  useEffect(() => {
    const on = () => setPath(location.pathname + location.search);
    addEventListener("popstate", on);
    return () => removeEventListener("popstate", on);
  }, []);
  return path;
}

export function Link(props: { href: string; children: any; class?: string }) {
  return (
    <a
      href={props.href}
      class={props.class}
      onClick={(e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}

function SignIn(props: { onDone: (s: Session) => void }) {
  const [kind, setKind] = useState<"token" | "password">("token");
  const [token, setToken] = useState("");
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      props.onDone(await signIn(kind, token, user, password));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>tsprov console</h1>
      <form aria-label="Sign in" onSubmit={submit}>
        <fieldset>
          <legend>Sign in with</legend>
          <label class="choice">
            <input type="radio" name="kind" checked={kind === "token"} onChange={() => setKind("token")} /> Token
          </label>
          <label class="choice">
            <input type="radio" name="kind" checked={kind === "password"} onChange={() => setKind("password")} /> User and password
          </label>
        </fieldset>
        {kind === "token" ? (
          <label class="field">
            <span>Token</span>
            <input type="password" autoComplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} required />
          </label>
        ) : (
          <>
            <label class="field">
              <span>User name</span>
              <input autoComplete="username" value={user} onInput={(e) => setUser(e.currentTarget.value)} required />
            </label>
            <label class="field">
              <span>Password</span>
              <input type="password" autoComplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
            </label>
          </>
        )}
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}

function App() {
  const [s, setS] = useState<Session | null>(session());
  const path = usePath();
  // roles may have changed since the tab signed in: ask again on load
  useEffect(() => {
    const cur = session();
    if (!cur) return;
    call<Me>("GET", "/tsprov/v1/me")
      .then((me) => {
        const next = { ...cur, me };
        setSession(next);
        setS(next);
      })
      .catch(() => undefined); // a 401 signs out (api.call)
  }, []);
  if (!s) {
    return (
      <SignIn
        onDone={(ns) => {
          setS(ns);
          if (!location.pathname.startsWith("/packages")) navigate("/packages");
        }}
      />
    );
  }
  const parts = path.split("?")[0].split("/").filter(Boolean).map(decodeURIComponent);
  let screen;
  if (parts[0] === "packages" && parts[1]) screen = <PackageScreen key={parts[1]} id={parts[1]} tab={parts[2] || "steps"} />;
  else screen = <Packages />;
  if (parts[0] !== "packages") queueMicrotask(() => navigate("/packages"));
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header role="banner" class="banner">
        <span class="brand">tsprov</span>
        <nav aria-label="Main">
          <Link href="/packages">Packages</Link>
        </nav>
        <span class="who">
          Signed in as <strong>{s.me.LogonName}</strong>
        </span>
        <button
          onClick={async () => {
            await signOut();
            setS(null);
            navigate("/");
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {screen}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
