#!/usr/bin/env node
// Usage: node check.js [--strict] FILE [JSONFILE]
//
// Parses the OData CSDL XML document FILE with odata-csdl, the OASIS OData
// TC's CSDL XML -> CSDL JSON converter, in strict mode: malformed XML, an
// element or attribute where CSDL allows none, a missing required attribute
// or a name declared twice fails the parse. Then it resolves the references
// that the parser leaves unchecked (BaseType, property, parameter and return
// types, keys, EntitySet and ActionImport targets, properties redeclared by a
// derived type).
//
// Prints one summary line and exits 0, or prints the errors and exits 1
// (2 for a usage error). Departures from strict CSDL that the real
// AdminService $metadata makes too (dotted ActionImport names, keyless
// entity types, entity-typed structural properties) are printed as "note:"
// lines on stderr and do not fail the check; with --strict they are errors.
// With JSONFILE, the CSDL JSON document there must be the one the parser
// makes of FILE, member for member.
"use strict";

const fs = require("fs");
const { xml2json } = require("odata-csdl");

const args = process.argv.slice(2);
const strictMode = args[0] === "--strict";
if (strictMode) args.shift();
const [file, jsonFile] = args;
if (!file || args.length > 2) {
  console.error("usage: node check.js [--strict] FILE [JSONFILE]");
  process.exit(2);
}

let csdl;
try {
  csdl = xml2json(fs.readFileSync(file, "utf8"), { strict: true });
} catch (e) {
  console.error(`${file}: CSDL parse error: ${e.message}`);
  process.exit(1);
}

const errors = [];
const notes = [];
const identifier = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Cf}]{0,127}$/u;
const primitives = new Set(
  [
    "Binary", "Boolean", "Byte", "Date", "DateTimeOffset", "Decimal", "Double", "Duration",
    "Guid", "Int16", "Int32", "Int64", "SByte", "Single", "Stream", "String", "TimeOfDay",
    "Geography", "GeographyPoint", "GeographyLineString", "GeographyPolygon",
    "GeographyMultiPoint", "GeographyMultiLineString", "GeographyMultiPolygon",
    "GeographyCollection", "Geometry", "GeometryPoint", "GeometryLineString",
    "GeometryPolygon", "GeometryMultiPoint", "GeometryMultiLineString",
    "GeometryMultiPolygon", "GeometryCollection",
    "PrimitiveType", "ComplexType", "EntityType", "Untyped",
  ].map((n) => "Edm." + n)
);
const keyPrimitives = new Set(
  ["Boolean", "Byte", "Date", "DateTimeOffset", "Decimal", "Duration", "Guid", "Int16",
    "Int32", "Int64", "SByte", "String", "TimeOfDay"].map((n) => "Edm." + n)
);

// Collect every schema child under its qualified name.
const elements = new Map(); // qualified name -> element, or array of overloads
let containerName = null;
let container = null;
for (const [ns, schema] of Object.entries(csdl)) {
  if (ns.startsWith("$") || typeof schema !== "object") continue;
  for (const [name, el] of Object.entries(schema)) {
    if (name.startsWith("$") || name.includes("@")) continue;
    elements.set(`${ns}.${name}`, el);
    if (el.$Kind === "EntityContainer") {
      containerName = `${ns}.${name}`;
      container = el;
    }
  }
}
const kindOf = (q) => {
  const el = elements.get(q);
  if (!el) return null;
  return Array.isArray(el) ? el[0].$Kind : el.$Kind;
};
const members = (obj) => Object.entries(obj).filter(([k]) => !k.startsWith("$") && !k.includes("@"));

function typeRef(where, t, { structural = false } = {}) {
  const type = t || "Edm.String";
  if (type.startsWith("Edm.")) {
    if (!primitives.has(type)) errors.push(`${where}: unknown type ${type}`);
    return;
  }
  const kind = kindOf(type);
  if (!["EntityType", "ComplexType", "EnumType", "TypeDefinition"].includes(kind)) {
    errors.push(`${where}: type ${type} does not resolve to a type (${kind || "undeclared"})`);
  } else if (structural && kind === "EntityType") {
    notes.push(`${where}: structural property of entity type ${type}`);
  }
}

// Structured types.
const counts = { EntityType: 0, ComplexType: 0, withKey: 0, Action: 0, bound: 0 };
function ancestors(q) {
  const out = [];
  const seen = new Set([q]);
  let el = elements.get(q);
  while (el && el.$BaseType) {
    if (seen.has(el.$BaseType)) {
      errors.push(`${q}: BaseType cycle through ${el.$BaseType}`);
      break;
    }
    seen.add(el.$BaseType);
    out.push(el.$BaseType);
    el = elements.get(el.$BaseType);
  }
  return out;
}
for (const [q, el] of elements) {
  if (Array.isArray(el) || !["EntityType", "ComplexType"].includes(el.$Kind)) continue;
  counts[el.$Kind]++;
  if (el.$BaseType && kindOf(el.$BaseType) !== el.$Kind) {
    errors.push(`${q}: BaseType ${el.$BaseType} is not a ${el.$Kind} (${kindOf(el.$BaseType) || "undeclared"})`);
  }
  const chain = ancestors(q);
  const inherited = new Set();
  for (const a of chain) for (const [n] of members(elements.get(a) || {})) inherited.add(n);
  for (const [name, p] of members(el)) {
    if (inherited.has(name)) errors.push(`${q}.${name}: redeclares an inherited property`);
    if (p.$Kind === "NavigationProperty") continue;
    typeRef(`${q}.${name}`, p.$Type, { structural: true });
  }
  if (el.$Kind !== "EntityType") continue;
  const keyed = [q, ...chain].filter((t) => elements.get(t) && elements.get(t).$Key);
  if (keyed.length > 1) errors.push(`${q}: key declared on ${keyed.join(" and ")}`);
  if (el.$Key) {
    counts.withKey++;
    for (const k of el.$Key) {
      const name = typeof k === "string" ? k : Object.values(k)[0];
      const owner = [q, ...chain].find((t) => elements.get(t) && elements.get(t)[name]);
      const p = owner && elements.get(owner)[name];
      if (!p) {
        errors.push(`${q}: key ${name} is not a property of the type`);
        continue;
      }
      if (p.$Nullable) errors.push(`${q}: key property ${name} is nullable`);
      if (p.$Collection || !keyPrimitives.has(p.$Type || "Edm.String")) {
        errors.push(`${q}: key property ${name} has type ${p.$Collection ? "Collection of " : ""}${p.$Type || "Edm.String"}`);
      }
    }
  }
  if (keyed.length === 0 && !el.$Abstract) notes.push(`${q}: non-abstract entity type without a key`);
}

// Actions and functions.
for (const [q, el] of elements) {
  if (!Array.isArray(el)) continue;
  const bindings = new Set();
  for (const overload of el) {
    counts[overload.$Kind] = (counts[overload.$Kind] || 0) + 1;
    const params = overload.$Parameter || [];
    if (overload.$IsBound) {
      counts.bound++;
      if (params.length === 0) {
        errors.push(`${q}: bound ${overload.$Kind} without a binding parameter`);
        continue;
      }
      const b = params[0].$Type;
      if (bindings.has(b)) errors.push(`${q}: two overloads bound to ${b}`);
      bindings.add(b);
    } else if (el.filter((o) => !o.$IsBound).length > 1 && overload.$Kind === "Action") {
      errors.push(`${q}: unbound action overloaded`);
    }
    const seen = new Set();
    for (const p of params) {
      if (seen.has(p.$Name)) errors.push(`${q}: parameter ${p.$Name} declared twice`);
      seen.add(p.$Name);
      typeRef(`${q}(${p.$Name})`, p.$Type);
    }
    if (overload.$ReturnType) typeRef(`${q} return`, overload.$ReturnType.$Type);
  }
}

// Entity container.
let sets = 0;
let imports = 0;
if (!container) errors.push("no EntityContainer");
else {
  if (csdl.$EntityContainer !== containerName) {
    errors.push(`$EntityContainer ${csdl.$EntityContainer} is not ${containerName}`);
  }
  for (const [name, child] of members(container)) {
    const where = `${containerName}/${name}`;
    if (child.$Action) {
      imports++;
      if (!identifier.test(name)) notes.push(`${where}: ActionImport name is not a simple identifier`);
      const target = elements.get(child.$Action);
      if (!Array.isArray(target) || !target.some((o) => o.$Kind === "Action" && !o.$IsBound)) {
        errors.push(`${where}: Action ${child.$Action} is not an unbound action`);
      }
    } else if (child.$Function) {
      const target = elements.get(child.$Function);
      if (!Array.isArray(target) || !target.some((o) => o.$Kind === "Function" && !o.$IsBound)) {
        errors.push(`${where}: Function ${child.$Function} is not an unbound function`);
      }
    } else if (child.$Type) {
      if (child.$Collection) sets++;
      if (kindOf(child.$Type) !== "EntityType") {
        errors.push(`${where}: ${child.$Type} is not an entity type`);
      } else if (child.$Collection) {
        const keyed = [child.$Type, ...ancestors(child.$Type)].some((t) => elements.get(t) && elements.get(t).$Key);
        if (!keyed) errors.push(`${where}: entity set of ${child.$Type}, which has no key`);
      }
    }
  }
}

if (jsonFile) {
  const given = JSON.parse(fs.readFileSync(jsonFile, "utf8"));
  const diffs = [];
  const compare = (path, a, b) => {
    if (diffs.length > 20) return;
    if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null)) {
      diffs.push(`${path}: ${JSON.stringify(b)} in ${jsonFile}, ${JSON.stringify(a)} parsed from ${file}`);
    } else if (a !== null && typeof a === "object") {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) compare(`${path}/${k}`, a[k], b[k]);
    } else if (a !== b) {
      diffs.push(`${path}: ${JSON.stringify(b)} in ${jsonFile}, ${JSON.stringify(a)} parsed from ${file}`);
    }
  };
  compare("", csdl, given);
  for (const d of diffs) errors.push(`CSDL JSON differs at ${d}`);
}

if (strictMode) for (const n of notes) errors.push(`strict: ${n}`);
else for (const n of notes) console.error(`note: ${n}`);
if (errors.length > 0) {
  for (const e of errors) console.error(`${file}: ${e}`);
  console.error(`${file}: ${errors.length} error(s)`);
  process.exit(1);
}
const schemas = Object.keys(csdl).filter((k) => !k.startsWith("$")).length;
console.log(
  `ok: CSDL ${csdl.$Version}, ${schemas} schemas, ${counts.EntityType} entity types ` +
    `(${counts.withKey} with key), ${counts.ComplexType} complex types, ${counts.Action} actions ` +
    `(${counts.bound} bound), ${imports} action imports, ${sets} entity sets, ${notes.length} notes`
);
