// The step classes and their properties, read at run time from the
// server's /odata/$metadata (the document the typed client is generated
// from): the console holds no copy of the schema.
import { call } from "./api";

export interface Prop {
  name: string;
  type: string; // Edm.String, Edm.Boolean, Edm.Int64, AdminService.X …
  collection: boolean;
  nullable: boolean;
  allowed?: string[]; // Validation.AllowedValues, when the schema lists them
  packageRef?: boolean; // a reference to a package (Tsprov.PackageReference)
  description?: string;
}

export interface ComplexType {
  name: string;
  base?: string;
  abstract: boolean;
  own: Prop[];
}

export class Schema {
  types = new Map<string, ComplexType>();
  sets = new Map<string, string>(); // entity set → its type

  /** setsOf lists the entity sets whose type derives from base. */
  setsOf(base: string): string[] {
    return [...this.sets].filter(([, t]) => this.isA(t, base)).map(([n]) => n);
  }

  /** props lists the properties of a type, its bases' first. */
  props(name: string): Prop[] {
    const t = this.types.get(name);
    if (!t) return [];
    return [...(t.base ? this.props(t.base) : []), ...t.own];
  }

  isA(name: string, base: string): boolean {
    for (let t = this.types.get(name); t; t = t.base ? this.types.get(t.base) : undefined) {
      if (t.name === base) return true;
    }
    return false;
  }

  /** concrete lists the classes that derive from base and may be made. */
  concrete(base: string): string[] {
    return [...this.types.values()].filter((t) => !t.abstract && this.isA(t.name, base)).map((t) => t.name).sort();
  }
}

const ns = "AdminService.";
const strip = (s: string) => (s.startsWith(ns) ? s.slice(ns.length) : s);

export function parseMetadata(xml: string): Schema {
  const doc = new DOMParser().parseFromString(xml, "application/xml");
  const s = new Schema();
  for (const el of [...Array.from(doc.getElementsByTagName("ComplexType")), ...Array.from(doc.getElementsByTagName("EntityType"))]) {
    const t: ComplexType = {
      name: el.getAttribute("Name")!,
      base: el.getAttribute("BaseType") ? strip(el.getAttribute("BaseType")!) : undefined,
      abstract: el.getAttribute("Abstract") === "true",
      own: [],
    };
    for (const p of Array.from(el.children)) {
      if (p.localName !== "Property") continue;
      let type = p.getAttribute("Type") || "Edm.String";
      const collection = type.startsWith("Collection(");
      if (collection) type = type.slice("Collection(".length, -1);
      const prop: Prop = { name: p.getAttribute("Name")!, type: strip(type), collection, nullable: p.getAttribute("Nullable") !== "false" };
      for (const a of Array.from(p.children)) {
        const term = a.getAttribute("Term") || "";
        if (term.endsWith("AllowedValues")) {
          prop.allowed = Array.from(a.getElementsByTagName("PropertyValue")).map((v) => v.getAttribute("String") ?? v.getAttribute("Int") ?? "");
        } else if (term.endsWith("PackageReference")) {
          prop.packageRef = true;
        } else if (term.endsWith("Core.Description")) {
          prop.description = a.getAttribute("String") || undefined;
        }
      }
      t.own.push(prop);
    }
    s.types.set(t.name, t);
  }
  for (const el of Array.from(doc.getElementsByTagName("EntitySet"))) {
    s.sets.set(el.getAttribute("Name")!, strip(el.getAttribute("EntityType") || ""));
  }
  return s;
}

let loaded: Promise<Schema> | null = null;

export function schema(): Promise<Schema> {
  if (!loaded) {
    loaded = call<string>("GET", "/odata/$metadata", undefined, { Accept: "application/xml" }).then(parseMetadata);
    loaded.catch(() => (loaded = null));
  }
  return loaded;
}
