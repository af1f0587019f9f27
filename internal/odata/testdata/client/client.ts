// Drives tsprov's /odata/ root through the client odata2ts generated from
// its $metadata (./gen, unchanged generator output): create, list with
// $filter/$select/$orderby/$top/$count, get by key, patch with If-Match,
// the ImportSequence, SetSequence and GetSequence actions with their typed
// results, delete. Usage: node client.js SERVICE_URL SEQUENCE_XML_FILE.
// Prints one line per step; exits 1 at the first answer that is not the
// expected one.
import { readFileSync } from "fs";
import { FetchClient } from "@odata2ts/http-client-fetch";
import { TsprovService } from "./gen/TsprovService";
import { SMS_TaskSequence, SMS_TaskSequencePackage } from "./gen/TsprovModel";

const [serviceURL, xmlFile] = process.argv.slice(2);

function check(ok: boolean, what: string, got?: unknown): void {
  if (!ok) {
    console.error(`FAIL ${what}${got === undefined ? "" : ": " + JSON.stringify(got).slice(0, 400)}`);
    process.exit(1);
  }
  console.log(`ok ${what}`);
}

async function main(): Promise<void> {
  const service = new TsprovService(new FetchClient(), serviceURL);
  const packages = service.SMS_TaskSequencePackage();

  // Create two packages.
  const created = await packages.create({ Name: "Generated client: long", Duration: 42, TsEnabled: true });
  const long: SMS_TaskSequencePackage = created.data;
  check(created.status === 201 && /^PS1[0-9A-F]{5}$/.test(long.PackageID), "create answers 201 with a PackageID", long.PackageID);
  const short = (await packages.create({ Name: "Generated client: short", Duration: 5, TsEnabled: true })).data;
  check(short.Duration === 5, "create reads back Duration", short.Duration);

  // List with $filter, $select, $orderby, $top and $count.
  const listed = await packages.query((b, q) =>
    b.filter(q.Duration.gt(10), q.Name.startsWith("Generated client"))
      .select("Name", "Duration")
      .orderBy(q.Name.desc())
      .top(10)
      .count()
  );
  const rows = listed.data.value;
  check(rows.length === 1 && rows[0].Name === long.Name && rows[0].Duration === 42, "list filters, selects and orders", rows);
  check(Number(listed.data["@odata.count"]) === 1, "list counts", listed.data["@odata.count"]);
  const all = await packages.query((b, q) => b.orderBy(q.Duration.asc()).top(1).count());
  check(all.data.value.length === 1 && all.data.value[0].PackageID === short.PackageID, "list orders and pages", all.data.value);
  check(Number(all.data["@odata.count"]) === 2, "count ignores $top", all.data["@odata.count"]);

  // Get by key: the entity itself; collections are [], never null.
  const got = await service.SMS_TaskSequencePackage(long.PackageID).query();
  const pkg: SMS_TaskSequencePackage = got.data;
  check(pkg.PackageID === long.PackageID && pkg.Name === long.Name, "get by key answers the entity", pkg);
  check(Array.isArray(pkg.References) && pkg.References.length === 0, "References is an empty array", pkg.References);
  const etag = got.headers["etag"];
  check(typeof etag === "string" && etag.length > 2, "get by key answers an ETag", got.headers);

  // Patch with If-Match: the current tag succeeds, the old one is refused.
  const entity = service.SMS_TaskSequencePackage(long.PackageID);
  await entity.patch({ Description: "patched" }, { headers: { "If-Match": etag } });
  const patched = (await entity.query()).data;
  check(patched.Description === "patched", "patch with If-Match changes the entity", patched.Description);
  let refused = 0;
  try {
    await entity.patch({ Description: "lost update" }, { headers: { "If-Match": etag } });
  } catch (e) {
    refused = (e as { status?: number }).status ?? -1;
  }
  check(refused === 412, "patch with a stale If-Match is refused with 412", refused);
  check((await entity.query()).data.Description === "patched", "the refused patch changed nothing");

  // ImportSequence, SetSequence, GetSequence: typed results.
  const imported = await packages.ImportSequence({ SequenceXML: readFileSync(xmlFile, "utf8") });
  const ts: SMS_TaskSequence | null | undefined = imported.data.TaskSequence;
  check(imported.data.ReturnValue === 0 && !!ts && Array.isArray(ts.Steps) && ts.Steps.length > 0, "ImportSequence returns the object model", imported.data);
  const set = await packages.SetSequence({ TaskSequencePackage: { PackageID: long.PackageID } as SMS_TaskSequencePackage, TaskSequence: ts });
  check(set.data.ReturnValue === 0 && set.data.SavedTaskSequencePackagePath === `SMS_TaskSequencePackage.PackageID="${long.PackageID}"`, "SetSequence saves the sequence", set.data);
  const back = await packages.GetSequence({ TaskSequencePackage: { PackageID: long.PackageID } as SMS_TaskSequencePackage });
  check(back.data.ReturnValue === 0 && back.data.TaskSequence?.Steps?.length === ts!.Steps!.length, "GetSequence returns the saved steps", back.data.TaskSequence?.Steps?.length);
  const withRefs = (await entity.query()).data;
  check(typeof withRefs.Sequence === "string" && withRefs.Sequence.startsWith("<sequence"), "the package holds the sequence XML", withRefs.Sequence?.slice(0, 40));

  // Delete both.
  for (const id of [long.PackageID, short.PackageID]) {
    const del = await service.SMS_TaskSequencePackage(id).delete();
    check(del.status === 204, `delete ${id} answers 204`, del.status);
  }
  let gone = 0;
  try {
    await service.SMS_TaskSequencePackage(long.PackageID).query();
  } catch (e) {
    gone = (e as { status?: number }).status ?? -1;
  }
  check(gone === 404, "a deleted package is not found", gone);
}

main().catch((e) => {
  console.error("FAIL", e);
  process.exit(1);
});
