package querytest

import (
	"strings"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// Errors: kinds, positions and what the message says.

func odataErrorCases() []Case {
	const cat = "error"
	inv := errs.Invalid
	return []Case{
		odErr(cat, "Name eq 'a' and colour eq 1", inv, "colour", "class SMS_TaskSequencePackage has no property colour"),
		odErr(cat, "Name eq 5", inv, "eq", "cannot compare a string with an integer"),
		odErr(cat, "'a' eq 1", inv, "eq", "cannot compare a string with an integer"),
		odErr(cat, "TsEnabled gt true", inv, "gt", "booleans can only be compared with eq or ne"),
		odErr(cat, "TsEnabled eq 'yes'", inv, "eq", "cannot compare a boolean with a string"),
		odErr(cat, "Duration eq true", inv, "eq", "cannot compare an integer with a boolean"),
		odErr(cat, "SourceDate eq 5", inv, "eq", "cannot compare a date-time with an integer"),
		odErr(cat, "Duration lt null", inv, "lt", "null can only be compared with eq or ne"),
		odErr(cat, "TsEnabled in (1)", inv, "1", "cannot compare a boolean with an integer"),
		odErr(cat, "Name in ('a', 1)", inv, "1", "cannot compare a string with an integer"),
		odErr(cat, "startswith(Name,'a') eq 'true'", inv, "eq", "cannot compare a boolean with a string"),
		odErr(cat, "length(Name) eq 'x'", inv, "eq", "cannot compare an integer with a string"),
		odErr(cat, "contains(Duration,'1')", inv, "Duration", "contains needs a string as argument 1, not an integer"),
		odErr(cat, "substring(Name,'a') eq 'x'", inv, "'a'", "substring needs an integer as argument 2"),
		odErr(cat, "Name eq 'a' and Duration", inv, "Duration", "and/or need conditions on both sides"),
		odErr(cat, "not Duration", inv, "not", "not needs a condition"),
		odErr(cat, "null", inv, "null", "not a condition"),
		odErr(cat, "'x'", inv, "'x'", "not a condition"),
		odErr(cat, "Duration", inv, "Duration", "not a condition"),
		odErr(cat, "Duration in ()", inv, ")", "unexpected"),
		odErr(cat, "Name eq 'a' and (Duration gt 5", inv, "$", "expected )"),
		odErr(cat, "Name eq 'a' and (Duration gt 5))", inv, "#2:)", "unexpected"),
		odErr(cat, "Name eq 'abc", inv, "'abc", "unterminated string"),
		odErr(cat, "Name eq 'a' union select * from x", inv, "union", "unexpected"),
		odErr(cat, "Name eq 'a' eq 'b'", inv, "#2:eq", "unexpected"),
		odErr(cat, "Name eq #", inv, "#", "unexpected character"),
		odErr(cat, "$it/Name eq 'a'", inv, "$it", "unexpected character"),
		odErr(cat, "Name eq 'a' and not", inv, "$", "expression ends too soon"),
		odErr(cat, "Name eq 'a' or", inv, "$", "expression ends too soon"),
		odErr(cat, "   ", inv, "$", "expression ends too soon").named("blank filter"),
		odErr(cat, "Name like 'a%'", inv, "like", "unexpected"),
		odErr(cat, "Name eq 'a' and Duration add 1 eq 2", inv, "add", "unexpected"),
		odErr(cat, "Duration eq -", inv, "-", "not a number"),
		odErr(cat, "Duration eq 1e999", inv, "1e999", "not a number"),
		odErr(cat, "Duration eq 0x10", inv, "x10", "unexpected"),
		odErr(cat, "concat(Name,'x') eq 'ax'", inv, "concat", "unknown function concat"),
		odErr(cat, "substring(Name)", inv, "substring", "substring takes 2 or 3 arguments"),
		odErr(cat, "SecuredScopeNames eq 'Default'", inv, "SecuredScopeNames", "only scalar properties"),
		odErr(cat, "Icon eq null", inv, "Icon", "only scalar properties"),
		odErr(cat, "TransformAnalysisDate eq 2026-13-01T00:00:00Z", inv, "2026", "not a DateTimeOffset").class("SMS_Package"),
		odErr(cat, "TransformAnalysisDate eq 'soon'", inv, "'soon'", "not a date-time").class("SMS_Package"),
		odErr(cat, "Duration eq 1", inv, "", "abstract").class("SMS_PackageBaseclass").named("abstract class"),
	}
}

func wqlErrorCases() []Case {
	const cat = "error"
	inv, ni := errs.Invalid, errs.NotImplemented
	w := wqlFrom
	return []Case{
		// classes
		wqErr(cat, "SELECT Name FROM SMS_TaskSequencePackages WHERE Name = 'a'", inv, "SMS_TaskSequencePackages", "unknown class"),
		wqErr(cat, "SELECT * FROM SMS_PackageBaseclass", inv, "", "abstract"),
		wqErr(cat, "SELECT * FROM SMS_OS_Details", inv, "", "embedded"),
		// constructs tsprov does not serve
		wqErr(cat, `ASSOCIATORS OF {SMS_TaskSequencePackage.PackageID="PS100001"} WHERE ResultClass = SMS_Package`, ni, "ASSOCIATORS", "ASSOCIATORS OF is not supported"),
		wqErr(cat, "references of {SMS_TaskSequencePackage.PackageID='PS100001'}", ni, "references", "REFERENCES OF is not supported"),
		wqErr(cat, "  Associators Of {x}", ni, "Associators", "ASSOCIATORS OF"),
		wqErr(cat, "SELECT * FROM __InstanceCreationEvent WITHIN 10 WHERE TargetInstance ISA 'SMS_TaskSequencePackage'", ni, "__Instance", "event query"),
		wqErr(cat, "SELECT * FROM SMS_TaskSequencePackage WITHIN 5", ni, "WITHIN", "WITHIN"),
		wqErr(cat, w+"Duration = 5 GROUP WITHIN 10", ni, "GROUP", "GROUP BY"),
		wqErr(cat, w+"Duration = 5 HAVING NumberOfEvents > 1", ni, "HAVING", "HAVING"),
		wqErr(cat, "SELECT * FROM SMS_TaskSequencePackage ORDER BY Name", ni, "ORDER", "ORDER BY"),
		wqErr(cat, "SELECT DISTINCT Name FROM SMS_TaskSequencePackage", ni, "DISTINCT", "DISTINCT"),
		wqErr(cat, "SELECT COUNT(*) FROM SMS_TaskSequencePackage", ni, "COUNT", "COUNT"),
		wqErr(cat, "SELECT * FROM SMS_TaskSequencePackage, SMS_Package", ni, ",", "more than one class"),
		wqErr(cat, "SELECT * FROM SMS_TaskSequencePackage INNER JOIN SMS_Package", ni, "INNER", "join"),
		wqErr(cat, "SELECT * FROM SMS_TaskSequencePackage AS t", ni, "AS", "alias"),
		wqErr(cat, w+"PackageID IN (SELECT PackageID FROM SMS_Package)", ni, "#2:SELECT", "subquery"),
		wqErr(cat, w+"UPPER(Name) = 'ABC'", ni, "UPPER", "function"),
		wqErr(cat, w+"Name ISA 'SMS_Package'", ni, "ISA", "ISA"),
		// malformed
		wqErr(cat, "", inv, "$", "expected SELECT").named("empty statement"),
		wqErr(cat, "SELECT FROM SMS_TaskSequencePackage", inv, "FROM", "expected * or a property name"),
		wqErr(cat, "SELECT * SMS_TaskSequencePackage", inv, "SMS_", "expected FROM"),
		wqErr(cat, "SELECT * FROM", inv, "$", "expected a class name"),
		wqErr(cat, "SELECT Name, FROM SMS_TaskSequencePackage", inv, "FROM", "expected * or a property name"),
		wqErr(cat, w, inv, "$", "ends too soon").named("WHERE and nothing"),
		wqErr(cat, w+"Name = ", inv, "$", "ends too soon"),
		wqErr(cat, w+"Name == 'a'", inv, "#2:=", "expected a property or a constant"),
		wqErr(cat, w+"Name = 'a' AND", inv, "$", "ends too soon"),
		wqErr(cat, w+"(Name = 'a'", inv, "$", "expected ) to close"),
		wqErr(cat, w+"Name 'a'", inv, "'a'", "expected a comparison"),
		wqErr(cat, w+"TsEnabled", inv, "$", "expected a comparison"),
		wqErr(cat, w+"Name LIKE Name", inv, "#2:Name", "LIKE needs a pattern in quotes"),
		wqErr(cat, w+"Name IS 'x'", inv, "'x'", "expected NULL after IS"),
		wqErr(cat, w+"Name NOT = 'a'", inv, "=", "expected LIKE or IN after NOT"),
		wqErr(cat, w+"Name ! 'a'", inv, "!", "unexpected character '!'"),
		wqErr(cat, w+"Duration = 1abc", inv, "1abc", "is not a number"),
		wqErr(cat, w+"Duration = 99999999999999999999", inv, "9999", "out of range"),
		wqErr(cat, w+"Name = 'a' Duration = 1", inv, "Duration", "unexpected"),
		wqErr(cat, w+"Duration IN (1, Priority)", inv, "Priority", "constants"),
		wqErr(cat, w+strings.Repeat("NOT ", 1000)+"TsEnabled = TRUE", inv, "#limit+1:NOT", "nests more than").named("1000 nested NOTs"),
		wqErr(cat, w+strings.Repeat("(", 1000)+"Name = 'a'"+strings.Repeat(")", 1000), inv, "#limit+1:(", "nests more than").named("1000 nested parentheses"),
		wqErr(cat, w+strings.Repeat("Duration = 1 OR ", 1000)+"Duration = 2", inv, "#limit+1:Duration", "tests").named("1001 tests"),
		// type errors, reported by Statement.Check as WQL
		wqErr(cat, w+"Name = 5", inv, "=", "WQL: at position"),
		wqErr(cat, w+"Name = 5", inv, "=", "cannot compare a string with an integer"),
		wqErr(cat, w+"Duration > 'abc'", inv, ">", "cannot compare an integer with a string"),
		wqErr(cat, w+"TsEnabled < TRUE", inv, "<", "booleans can only be compared"),
		wqErr(cat, w+"SourceDate > 'yesterday'", inv, "'yesterday'", "not a date-time"),
		wqErr(cat, w+"Colour = 1", inv, "Colour", "no property Colour"),
		wqErr(cat, w+"Duration LIKE '1%'", inv, "LIKE", "LIKE needs a string"),
		wqErr(cat, w+"SecuredScopeNames = 'Default'", inv, "SecuredScopeNames", "only scalar"),
		wqErr(cat, w+"Duration = 1 OR References IS NULL", inv, "References", "only scalar"),
	}
}

// injectionCases: SQL in every place a query takes text. Each must give
// the right answer (a value stays a value) or be refused as Invalid; the
// suite checks afterwards that the store is unchanged.
func injectionCases() []Case {
	const cat = "injection"
	inv := errs.Invalid
	w := wqlFrom
	long := strings.Repeat("x' OR '1'='1 ", 8000)
	orderBy := func(prop string) Case {
		c := odErr(cat, "", inv, "", "")
		c.OrderBy = []store.Order{{Property: prop}}
		c.Name = "order by " + prop
		return c
	}
	return []Case{
		od(cat, "Name eq 'a' or 1 eq 1", "*"),
		od(cat, "Name eq 'a''; DELETE FROM SMS_TaskSequencePackage; --'", ""),
		od(cat, "Name eq 'x'' UNION SELECT name FROM sqlite_master --'", ""),
		od(cat, "Name eq 'a' or Name eq 'b'' or 1=1 --'", ""),
		od(cat, "contains(Name,'''); DROP TABLE students;--')", "Q"),
		od(cat, "contains(Name,''' OR ''1''=''1')", "P"),
		od(cat, "contains(Name,'%'' OR ''1''=''1')", ""),
		od(cat, `startswith(Name,'\%')`, ""),
		od(cat, "Name eq '"+strings.ReplaceAll(long, "'", "''")+"'", "").named("100 KB literal"),
		odErr(cat, "Name eq 'a'; DELETE FROM SMS_TaskSequencePackage", inv, ";", "unexpected character"),
		odErr(cat, "Duration eq 1 or Duration eq 2; PRAGMA writable_schema=1", inv, ";", "unexpected character"),
		odErr(cat, "Name eq 'a' -- comment", inv, "--", "unexpected"),
		odErr(cat, "Name eq 'a' /* c */", inv, "/", "unexpected character"),
		odErr(cat, "Name eq 'a' union select Name from sqlite_master", inv, "union", "unexpected"),
		odErr(cat, "Name eq 'x' or Name eq (select Name)", inv, "#3:Name", "expected )"),
		odErr(cat, "Name eq 'x' or ''=''", inv, "=", "unexpected character"),
		odErr(cat, "Name eq 'a' or sqlite_version() eq '3'", inv, "sqlite_version", "unknown function"),
		odErr(cat, "_key eq 'PS100001'", inv, "_key", "no property _key"),
		odErr(cat, "_version gt 0", inv, "_version", "no property _version"),
		odErr(cat, "t._key eq 'x'", inv, "t._key", "no property t._key"),
		odErr(cat, `Name"; DROP TABLE x; -- eq 'a'`, inv, `"`, "unexpected character"),
		od(cat, "Name eq 'abc\x00'", "").orInvalid().named("NUL in a string"),
		od(cat, "contains(Name,'\x00')", "").orInvalid().named("NUL in contains"),
		odErr(cat, "Name eq 'abc'\x00 or 1 eq 1", inv, "\x00", "unexpected character").named("NUL outside a string"),
		wq(cat, "Name = 'a' OR 1=1", "*"),
		wq(cat, `Name = 'a\' OR 1=1 --'`, ""),
		wq(cat, `Name = "x\" OR \"1\"=\"1"`, ""),
		wq(cat, `Name = 'Robert\'); DROP TABLE students;--'`, "Q"),
		wq(cat, "Name = 'abc\x00'", "").orInvalid().named("NUL in a string"),
		wq(cat, "Name LIKE '%\x00'", "").orInvalid().named("NUL in LIKE"),
		wqErr(cat, w+"Name = 'abc'\x00", inv, "\x00", "unexpected character").named("NUL outside a string"),
		wqErr(cat, "SELECT * FROM SMS_TaskSequencePackage; DROP TABLE SMS_TaskSequencePackage", inv, ";", "unexpected character"),
		wqErr(cat, w+"Name = 'a'; DELETE FROM SMS_TaskSequencePackage", inv, ";", "unexpected character"),
		wqErr(cat, "SELECT * FROM SMS_TaskSequencePackage -- comment", inv, "-", "unexpected character"),
		wqErr(cat, "SELECT * FROM SMS_TaskSequencePackage /* comment */", inv, "/", "unexpected character"),
		wqErr(cat, w+"Name = 'a' UNION SELECT * FROM SMS_Package", inv, "UNION", "unexpected"),
		wqErr(cat, "SELECT * FROM SMS_TaskSequencePackage UNION SELECT * FROM SMS_Package", inv, "UNION", "expected WHERE or the end"),
		wqErr(cat, "SELECT * FROM sqlite_master", inv, "sqlite_master", "unknown class"),
		wqErr(cat, "SELECT * FROM tsprov_sequences", inv, "tsprov_sequences", "unknown class"),
		wqErr(cat, `SELECT * FROM "SMS_TaskSequencePackage"`, inv, `"SMS`, "expected a class name"),
		wqErr(cat, "DELETE FROM SMS_TaskSequencePackage", inv, "DELETE", "expected SELECT"),
		wqErr(cat, "DROP TABLE SMS_TaskSequencePackage", inv, "DROP", "expected SELECT"),
		wqErr(cat, "SELECT Name; DROP TABLE x FROM SMS_TaskSequencePackage", inv, ";", "unexpected character"),
		wqErr(cat, w+"Name LIKE 'a' ESCAPE 'b'", inv, "ESCAPE", "unexpected"),
		wqErr(cat, w+"Name LIKE '%'' OR 1=1 --'", inv, "#3:'", "unexpected"),
		wqErr(cat, w+"_key = 'PS100001'", inv, "_key", "no property _key"),
		orderBy("Name; DROP TABLE SMS_TaskSequencePackage"),
		orderBy("Name DESC, (SELECT 1)"),
		orderBy("_key"),
	}
}
