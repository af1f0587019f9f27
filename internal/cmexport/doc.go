// Package cmexport reads and writes the zip that the ConfigMgr console's
// Export Task Sequence wizard and Export-CMTaskSequence write: an OPC
// package ([Content_Types].xml, _rels/.rels, core properties) holding
// Manifest.xml and one folder per object, each object as WMI CIM-XML
// (object.xml) beside its ReferencesInfo.xml and the other parts of its
// folder.
//
// Read takes a zip within Limits, whatever its headers claim, and
// returns an Archive: the objects found through the manifest and the
// relationships, and a Problem for each part it could not take (a whole
// zip it cannot read at all is an errs.Invalid or errs.TooLarge error
// naming the entry). Write writes an Archive as the console lays it out.
// ToCIM and FromCIM convert between CIM-XML instances and the schema's
// instances, keeping NULL and empty apart; ParseMap reads a promotion's
// map file.
//
// The package is pure: no I/O beyond the reader and writer it is given,
// no storage, no HTTP. docs/export-import.md describes the format as
// tsprov reads and writes it.
package cmexport
