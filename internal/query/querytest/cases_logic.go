package querytest

import (
	"strings"

	"github.com/tsprov/tsprov/internal/store"
)

// Nulls, and/or/not, in, the OData functions.

func nullCases() []Case {
	const cat = "null"
	return []Case{
		od(cat, "Description eq null", "C E H S V"),
		wq(cat, "Description IS NULL", "C E H S V"),
		wq(cat, "Description = NULL", ""),
		wq(cat, "NULL = Description", ""),
		od(cat, "null eq Description", "C E H S V"),
		od(cat, "Description ne null", "* -C -E -H -S -V"),
		wq(cat, "Description IS NOT NULL", "* -C -E -H -S -V"),
		wq(cat, "Description <> NULL", ""),
		od(cat, "Description ne 'x64, UEFI'", "* -A"),
		wq(cat, "Description <> 'X64, uefi'", "* -A -C -E -H -S -V"),
		od(cat, "'x64, uefi' ne Description", "* -A"),
		od(cat, "not (Description eq 'ABC')", "* -R"),
		wq(cat, "NOT Description = 'abc'", "* -R -C -E -H -S -V"),
		od(cat, "not (Description ne 'ABC')", "R"),
		wq(cat, "NOT (Description <> 'abc')", "R"),
		od(cat, "not (Description eq null)", "* -C -E -H -S -V"),
		wq(cat, "NOT Description IS NULL", "* -C -E -H -S -V"),
		od(cat, "Description eq 'ABC' or Description eq null", "C E H R S V"),
		od(cat, "not (Description lt 'b')", "* -J -N -O -P -Q -R -T"),
		wq(cat, "NOT Description < 'b'", "* -J -N -O -P -Q -R -T -C -E -H -S -V"),
		od(cat, "Language ne 'de-DE'", "* -B -F -U"),
		od(cat, "Language ne 'de-DE' and Priority ne 2", "* -A -B -F -G -U"),
		od(cat, "Priority eq null and Language eq null", "E H J K L M N O P Q S T V"),
		wq(cat, "Priority IS NULL AND Language IS NULL", "E H J K L M N O P Q S T V"),
		od(cat, "Priority lt 3 or Priority eq null", "* -C -I"),
		od(cat, "not (Priority ge 2)", "* -A -C -G -I -U"),
		od(cat, "Description eq Language", "E H S V"),
		od(cat, "Description ne Language", "* -E -H -S -V"),
		od(cat, "tolower(Description) ne 'abc'", "* -R"),
		od(cat, "length(Description) ne 1", "* -F -N"),
		od(cat, "tolower(Description) eq null", "C E H S V"),
		od(cat, "length(Description) lt 3", "F N O T"),
		od(cat, "Description in (null, 'ABC')", "C E H R S V"),
		od(cat, "null eq null", "*"),
		od(cat, "null ne null", ""),
		od(cat, "Name eq null", ""),
		wq(cat, "Name IS NULL", ""),
		wq(cat, "NULL IS NULL", "*"),
		wq(cat, "NOT NULL IS NULL", ""),
		wq(cat, "'x' IS NULL", ""),
		wq(cat, "Description IS NOT NULL AND Description <> ''", "* -C -E -H -S -V -O"),
		od(cat, "not contains(Description,'e')", "C E F G H J L M N O Q R S T V"),
		wq(cat, "NOT Description LIKE '%e%'", "F G J L M N O Q R T"),
		wq(cat, "Description NOT LIKE '%'", ""),
		wq(cat, "Description NOT LIKE '[a-c]%[x-z]'", "* -C -E -H -S -V"),
		wq(cat, "Description NOT LIKE '%[l]%'", "* -C -E -H -S -V -B -D -M"),
		od(cat, "endswith(Description,'s') eq true", "I L"),
		od(cat, "endswith(Description,'s') eq false", "A B D F G J K M N O P Q R T U"),
		od(cat, "endswith(Description,'s') ne true", "* -I -L"),
		od(cat, "not endswith(Description,'s')", "* -I -L"),
	}
}

// wqlNullCases hold WQL to SQL's three-valued logic (query.NullIsUnknown),
// since ConfigMgr runs WQL on SQL: a comparison with a null operand, <>
// and != included, is unknown, NOT of unknown is unknown, and only a true
// condition selects. OData's ne keeps its own rule (null ne 'x' holds):
// each WQL case has its OData counterpart beside it. Language is null for
// E H I J K L M N O P Q S T V, de-DE (any case) for B F U.
func wqlNullCases() []Case {
	const cat = "null"
	return []Case{
		wq(cat, "Language != 'de-DE'", "A C D G R"),
		wq(cat, "Language <> 'de-DE'", "A C D G R"),
		wq(cat, "'de-DE' <> Language", "A C D G R"),
		od(cat, "'de-DE' ne Language", "* -B -F -U"),
		wq(cat, "NOT (Language = 'de-DE')", "A C D G R"),
		wq(cat, "NOT Language = 'de-DE'", "A C D G R"),
		od(cat, "not (Language eq 'de-DE')", "* -B -F -U"),
		wq(cat, "NOT (Language <> 'de-DE')", "B F U"),
		od(cat, "not (Language ne 'de-DE')", "B F U"),
		wq(cat, "Language <> 'de-DE' OR Language IS NULL", "* -B -F -U"),
		wq(cat, "Language = NULL", ""),
		wq(cat, "NULL = Language", ""),
		wq(cat, "Language <> NULL", ""),
		wq(cat, "NULL != Language", ""),
		wq(cat, "NOT (Language = NULL)", ""),
		wq(cat, "NOT (NULL <> Language)", ""),
		wq(cat, "NULL = NULL", ""),
		wq(cat, "NULL <> NULL", ""),
		od(cat, "Language ne null", "A B C D F G R U"),
		od(cat, "null ne Language", "A B C D F G R U"),
		od(cat, "null eq Language", "E H I J K L M N O P Q S T V"),
		wq(cat, "Language <> Description", "A B D F G R U"),
		od(cat, "Language ne Description", "* -E -H -S -V"),
		wq(cat, "NOT (Language = Description)", "A B D F G R U"),
		// Kleene's AND and OR: unknown AND false is false, unknown OR true is true
		wq(cat, "NOT (Language = 'de-DE' AND Duration > 100)", "* -E"),
		wq(cat, "NOT (Language = 'de-DE' OR Duration > 100)", "A C D G"),
		od(cat, "not (Language eq 'de-DE' or Duration gt 100)", "* -B -E -F -R -U"),
		wq(cat, "NOT Priority >= 2", "B R"),
		wq(cat, "Priority NOT IN (1, 2)", "C I"),
	}
}

func logicCases() []Case {
	const cat = "logic"
	orChain := strings.Repeat("PackageID eq 'nope' or ", 1499) + "Name eq 'abc'"
	wqlOrChain := strings.Repeat("PackageID = 'nope' OR ", 1499) + "Name = 'abc'"
	return []Case{
		od(cat, "Duration lt 5 or Duration gt 100 and Priority eq 1", "I R S T U V"),
		wq(cat, "Duration < 5 OR Duration > 100 AND Priority = 1", "I R S T U V"),
		od(cat, "(Duration lt 5 or Duration gt 100) and Priority eq 1", "R"),
		wq(cat, "(Duration < 5 OR Duration > 100) AND Priority = 1", "R"),
		od(cat, "Duration eq 0 or Duration eq 1 and TsEnabled eq false", "I U"),
		wq(cat, "Duration = 0 OR Duration = 1 AND TsEnabled = FALSE", "I U"),
		od(cat, "(Duration eq 0 or Duration eq 1) and TsEnabled eq false", "U"),
		wq(cat, "(Duration = 0 OR Duration = 1) AND TsEnabled = FALSE", "U"),
		od(cat, "not (Duration eq 0 or Duration eq 1)", "* -I -S -U"),
		wq(cat, "NOT (Duration = 0 OR Duration = 1)", "* -I -S -U"),
		od(cat, "not not TsEnabled", "* -B -U"),
		wq(cat, "NOT NOT TsEnabled = TRUE", "* -B -U"),
		od(cat, "not TsEnabled or Duration eq 5", "B H U"),
		od(cat, "not TsEnabled and ForcedDisconnectEnabled", "U"),
		od(cat, "Priority eq 1 and TsEnabled eq false or Priority eq 3 and ForcedDisconnectEnabled eq true", "B C"),
		wq(cat, "Priority = 1 AND TsEnabled = FALSE OR Priority = 3 AND ForcedDisconnectEnabled = TRUE", "B C"),
		od(cat, "Priority eq 1 and (TsEnabled eq false or Priority eq 3) and ForcedDisconnectEnabled eq true", ""),
		od(cat, "((((Name eq 'abc'))))", "R"),
		wq(cat, "((((Name = 'abc'))))", "R"),
		wq(cat, "NOT Duration > 100", "* -E -R"),
		od(cat, "Name eq 'abc' and Name eq 'ABD'", ""),
		od(cat, "Name eq 'abc' or Name eq 'ABD' or Name eq 'zeta'", "R S U"),
		od(cat, "Duration gt 5 and Duration lt 10 and not (Duration eq 8)", "J L"),
		wq(cat, "(Duration = 0 OR Duration = 1) AND NOT (Name LIKE 'a%' OR Name LIKE 'z%')", "I"),
		od(cat, "1 eq 1", "*"),
		od(cat, "1 eq 2", ""),
		wq(cat, "1 = 1", "*"),
		wq(cat, "1 <> 1", ""),
		od(cat, orChain, "R").named("or chain of 1500 terms").orInvalid(),
		wq(cat, wqlOrChain, "R").named("OR chain of 1500 terms").orInvalid(),
		od(cat, strings.Repeat("not ", 501)+"TsEnabled", "B U").named("501 nested nots").orInvalid(),
		od(cat, strings.Repeat("(", 2000)+"Name eq 'abc'"+strings.Repeat(")", 2000), "R").named("2000 nested parentheses").orInvalid(),
		wq(cat, strings.Repeat("NOT ", 50)+"TsEnabled = TRUE", "* -B -U").named("50 nested NOTs"),
		wq(cat, strings.Repeat("(", 50)+"Name = 'abc'"+strings.Repeat(")", 50), "R").named("50 nested parentheses"),
	}
}

func inCases() []Case {
	const cat = "in"
	return []Case{
		od(cat, "Name in ('ABC', 'zeta', 'nope')", "R U"),
		wq(cat, `Name IN ('ABC', "zeta", 'nope')`, "R U"),
		od(cat, "Duration in (0, 1, 2)", "I S T U"),
		wq(cat, "Duration IN (0, 1, 2)", "I S T U"),
		od(cat, "Priority in (2)", "A G U"),
		od(cat, "Duration in (60.0, 90)", "A B"),
		od(cat, "Duration in (60.5)", ""),
		od(cat, "Name in ('')", "O"),
		wq(cat, "Duration NOT IN (0, 1)", "* -I -S -U"),
		wq(cat, "Priority NOT IN (1, 2)", "C I"),
		od(cat, "not (Priority in (1, 2))", "* -A -B -G -R -U"),
		od(cat, "Language in ('de-de', 'EN-us')", "A B C F U"),
		od(cat, "Name in ('abc') or Duration in (3)", "R V"),
		pkgOD(cat, "DefaultImageFlags in (-5, 2147483647, -2147483648)", "P2 P4 P5"),
	}
}

func functionCases() []Case {
	const cat = "function"
	return []Case{
		od(cat, "tolower(Name) eq 'café deploy'", "D"),
		od(cat, "toupper(Name) eq 'ZETA'", "U"),
		od(cat, "tolower(Description) eq 'abc'", "R"),
		od(cat, "toupper(Name) eq 'CAFÉ DEPLOY'", "D"),
		od(cat, "contains(tolower(Name),'café')", "D E"),
		od(cat, "length(Name) eq 8", "G"),
		od(cat, "length(Name) eq 11", "D E I K L"),
		od(cat, "length(Name) eq 12", "C F P"),
		od(cat, "length(Name) eq 0", "O"),
		od(cat, "length(Name) gt 20", "Q"),
		od(cat, "length(Description) eq 1", "F N"),
		od(cat, "length(tolower(Name)) eq 4", "U"),
		od(cat, "indexof(Name,'本') eq 1", "G"),
		od(cat, "indexof(Name,'ß') eq 4", "F"),
		od(cat, "indexof(Description,'x') eq -1", "B D F G I J K L M N O P Q R T U"),
		od(cat, "indexof(Name,'') eq 0", "*"),
		od(cat, "substring(Name,1,2) eq 'af'", "D E"),
		od(cat, "substring(Name,0,2) eq '日本'", "G"),
		od(cat, "substring(Name,3) eq 'é deploy'", "D"),
		od(cat, "substring(Name,7) eq 'build'", "F"),
		od(cat, "substring(Name,7,3) eq 'BUI'", "F"),
		od(cat, "substring(Name,100) eq ''", "*"),
		od(cat, "substring(Name,0,3) eq 'win'", "A B C"),
		od(cat, "startswith(tolower(Name),'win')", "A B C"),
		od(cat, "contains(toupper(Description),'BRIEN')", "I"),
		// the string compared is not a constant: the stores fold it as
		// Fold does, every letter, and toupper/tolower map case as
		// query.Eval does
		od(cat, "contains(Name,substring('xCAFÉ',1))", "D E"),
		od(cat, "indexof(tolower(Name),'é') eq 3", "D E"),
		od(cat, "indexof(toupper(Name),'É') eq 3", "D E"),
		od(cat, "endswith(Name,substring(Name,100))", "*"),
		od(cat, "endswith(Name,substring(Description,100))", "* -C -E -H -S -V"),
		od(cat, "indexof(Name,Description) eq 0", "N O"),
		od(cat, "indexof(Name,Description) eq null", "C E H S V"),
		od(cat, "substring(Name,1) in ('AFÉ deploy', 'bc', null)", "D R"),
		od(cat, "substring(Description,1) in ('BC', null)", "C E H R S V"),
		od(cat, "length(substring(Description,1)) in (1, null)", "C E H S T V"),
		od(cat, "length(Name) eq length(Description)", "M O R U"),
		od(cat, "tolower(Name) eq tolower(Description)", "O R U"),
		od(cat, "Name eq Description", "O R U"),
		wq(cat, "Name = Description", "O R U"),
		od(cat, "contains(Description,Name)", "O R U"),
		od(cat, "contains(Name,Description)", "F L N O R U"),
		od(cat, "startswith(Name,Description)", "L N O R U"),
		od(cat, "endswith(Name,Description)", "N O R U"),
		od(cat, "contains(Name,'')", "*"),
		od(cat, "startswith(Name,'')", "*"),
		od(cat, "endswith(Name,'')", "*"),
		od(cat, "contains(Description,'')", "* -C -E -H -S -V"),
		od(cat, "startswith(Name,'win') eq false", "* -A -B -C"),
		od(cat, "contains(Name,'a') ne true", "G I L O P"),
		od(cat, "true eq endswith(Name,'metal')", "A"),
		od(cat, "contains(Name,'%')", "H T"),
		od(cat, "contains(Name,'_')", "I T"),
		od(cat, "contains(Name,'%b_')", "T"),
		od(cat, "startswith(Name,'a%')", "T"),
		od(cat, "startswith(Name,'%')", ""),
		od(cat, "endswith(Name,'_c')", "T"),
		od(cat, `contains(Name,'\')`, "M"),
		od(cat, `contains(Description,'\s')`, "M"),
		od(cat, `endswith(Name,'\')`, ""),
		od(cat, "contains(Name,'[')", "J"),
		od(cat, "contains(Name,'[bracket]')", "J"),
		od(cat, "contains(Description,']')", "J"),
		od(cat, "contains(Name,'''')", "L P Q"),
		od(cat, `contains(Name,'"')`, "K"),
		od(cat, "contains(Name,'日本')", "G"),
		od(cat, "contains(Name,'ß')", "F"),
		od(cat, "startswith(Name,' ')", "N"),
		od(cat, "endswith(Name,' ')", "N"),
	}
}

// evalIsA: query.Eval has no case for *IsA.

// lazyCases test lazy properties: provider.List answers the terms on them
// in memory, after SQL selects the candidates by the other terms.
func lazyCases() []Case {
	const cat = "lazy"
	asc := func(p string) store.Order { return store.Order{Property: p} }
	desc := func(p string) store.Order { return store.Order{Property: p, Desc: true} }
	by := func(c Case, o ...store.Order) Case { c.OrderBy = o; c.Ordered = true; return c }
	return []Case{
		od(cat, "CustomProgressMsg eq null", "* -A -C -G -I"),
		wq(cat, "CustomProgressMsg IS NULL", "* -A -C -G -I"),
		od(cat, "contains(CustomProgressMsg,'install')", "A C"),
		od(cat, "startswith(CustomProgressMsg,'inst') and Duration gt 50", "A"),
		od(cat, "CustomProgressMsg ne 'installing windows 11'", "* -A"),
		od(cat, "CustomProgressMsg eq ''", "I"),
		od(cat, "length(CustomProgressMsg) gt 10", "A C"),
		od(cat, "length(CustomProgressMsg) eq 10", "G"),
		wq(cat, "CustomProgressMsg LIKE '%[日]%'", "G"),
		wq(cat, "CustomProgressMsg LIKE 'INSTALLING%' AND Priority = 3", "C"),
		wq(cat, "CustomProgressMsg = 'installing LEGACY'", "C"),
		od(cat, "Category eq 'osd'", "B C"),
		od(cat, "Category eq ''", "* -B -C"),
		od(cat, "Category ne 'OSD'", "* -B -C"),
		od(cat, "Category eq 'OSD' or Name eq 'Zeta'", "B C U"),
		od(cat, "not (Category eq 'OSD')", "* -B -C"),
		od(cat, "tolower(Category) eq 'osd' and ForcedDisconnectEnabled", "C"),
		wq(cat, "Category LIKE 'o%'", "B C"),
		od(cat, "contains(Category,'x')", ""),
		od(cat, "Category in ('OSD', 'none')", "B C"),
		od(cat, "BootImageID eq null", "*"),
		od(cat, "Duration eq 5 or TaskSequenceFlags eq 0", "*"),
		od(cat, "TaskSequenceFlags eq 0 and Duration eq 5", "H"),
		od(cat, "Type eq 1", "*"),
		wq(cat, "Sequence IS NOT NULL", ""),
		wq(cat, "Sequence IS NULL AND Name = 'abc'", "R"),
		pkgOD(cat, "RefreshPkgSourceFlag eq false", "*"),
		pkgOD(cat, "RefreshPkgSourceFlag or DefaultImageFlags lt 0", "P2 P4"),
		by(od(cat, "Category eq 'OSD' or Duration eq 0", "B C"), desc("Duration")).page(0, 2, 4),
		by(od(cat, "Category eq 'OSD' or Duration eq 0", "C I"), desc("Duration")).page(1, 2, 4),
		by(od(cat, "Category eq 'OSD' or Duration eq 0", "I U C B"), asc("Duration"), asc("Name")),
		wq(cat, "__CLASS ISA 'SMS_Package' OR Category = 'OSD'", "B C"),
		wq(cat, "__CLASS ISA 'SMS_PackageBaseclass' AND (Category = 'OSD' OR Duration = 5)", "B C H"),
	}
}
