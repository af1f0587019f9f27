// How a step reads in the tree: its icon by class, and its condition in
// words ("if OSDComputerName exists and …").

export type Json = Record<string, any>;

/** cls is the class of a step or condition object (its @odata.type). */
export function cls(o: Json | null | undefined): string {
  const t = (o && o["@odata.type"]) || "";
  return t.replace(/^#?AdminService\./, "");
}

export function isGroup(step: Json): boolean {
  return cls(step) === "SMS_TaskSequence_Group";
}

// icons by the kind of step a class name says (a glyph, not a copy of the
// schema: an unknown class gets the generic one).
const icons: [RegExp, string][] = [
  [/Group$/, "▤"],
  [/Reboot/, "⟳"],
  [/PowerShell/, "❯"],
  [/CommandLine/, "›_"],
  [/SetVariable|DynamicVariables/, "≔"],
  [/Partition|Disk|Format/, "◫"],
  [/Driver/, "⚙"],
  [/Application|Software|Package|Update/, "⬇"],
  [/OperatingSystem|InstallOS|UpgradeOS|Image/, "⊞"],
  [/BitLocker/, "🔒"],
  [/Network|Domain/, "⇄"],
  [/UserState|StateStore/, "⇪"],
  [/SubTasksequence/, "↳"],
];

export function icon(className: string): string {
  for (const [re, g] of icons) if (re.test(className)) return g;
  return "•";
}

/** label turns SMS_TaskSequence_RunCommandLineAction into "Run Command Line". */
export function label(className: string): string {
  const base = className.replace(/^(SMS_TaskSequence_|TSPROV_|BDD_)/, "").replace(/(Action|ConditionExpression)$/, "");
  return base.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/_/g, " ") || className;
}

const opWords: Record<string, string> = {
  equals: "equals",
  notequals: "does not equal",
  exists: "exists",
  notexists: "does not exist",
  like: "is like",
  greater: "is greater than",
  greaterequal: "is at least",
  less: "is less than",
  lessequal: "is at most",
};

function quote(v: unknown): string {
  return v === undefined || v === null ? "" : `"${String(v)}"`;
}

function op(o: unknown): string {
  const s = String(o ?? "").toLowerCase();
  return opWords[s] ?? s;
}

/** operand writes one condition operand in words. */
export function operand(o: Json): string {
  const c = cls(o);
  const ops: Json[] = o.Operands || [];
  switch (c) {
    case "SMS_TaskSequence_VariableConditionExpression": {
      const w = op(o.Operator);
      return /exist/.test(w) ? `${o.Variable} ${w}` : `${o.Variable} ${w} ${quote(o.Value)}`;
    }
    case "SMS_TaskSequence_FileConditionExpression":
      return `file ${quote(o.Path)} exists` + (o.Version ? ` with version ${op(o.VersionOperator)} ${quote(o.Version)}` : "");
    case "SMS_TaskSequence_FolderConditionExpression":
      return `folder ${quote(o.Path)} exists`;
    case "SMS_TaskSequence_RegistryConditionExpression":
      return `registry ${quote(o.KeyPath + (o.Value ? "\\" + o.Value : ""))} ${op(o.Operator)}` + (o.Data ? ` ${quote(o.Data)}` : "");
    case "SMS_TaskSequence_SoftwareConditionExpression":
      return `software ${quote(o.ProductName || o.ProductCode)} is installed`;
    case "SMS_TaskSequence_WMIConditionExpression":
      return `WMI query ${quote(o.Query)} returns results`;
    case "SMS_TaskSequence_OSConditionGroup":
    case "SMS_TaskSequence_OSExpressionGroup":
      return o.Name ? `OS is ${o.Name}` : "OS is one of " + ops.map(operand).join(", ");
    case "SMS_TaskSequence_OSConditionExpression":
      return `OS ${o.Architecture ?? ""} ${o.Version ?? ""}`.trim();
    case "SMS_TaskSequence_ConditionOperator": {
      const t = String(o.OperatorType || "and").toLowerCase();
      if (t === "not") return "not (" + ops.map(operand).join(" and ") + ")";
      const inner = ops.map(operand).join(` ${t} `);
      return ops.length > 1 ? `(${inner})` : inner;
    }
  }
  const fields = Object.entries(o)
    .filter(([k]) => !k.startsWith("@"))
    .map(([k, v]) => `${k} ${quote(v)}`);
  return `${label(c)} ${fields.join(" ")}`.trim();
}

/** condition writes a step's condition, "" when it has none. */
export function condition(c: Json | null | undefined): string {
  const ops: Json[] = c?.Operands || [];
  if (ops.length === 0) return "";
  return "if " + ops.map(operand).join(" and ");
}
