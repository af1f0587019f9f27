package querytest

import (
	"strings"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// LIKE, string escapes, WQL statements, $orderby and paging.

func likeCases() []Case {
	const cat = "like"
	// a class of 300 characters with no case forms: too large to query
	var big strings.Builder
	for r := rune(0x4E00); r < 0x4E00+300; r++ {
		big.WriteRune(r)
	}
	return []Case{
		wq(cat, "Name LIKE 'WIN1_ %'", "A B C"),
		// a prefix with a letter that folds beyond ASCII (s, k): the
		// store answers it by a range of the folded column alone
		od(cat, "startswith(Name,'STRA')", "F"),
		od(cat, "startswith(Name,'\u017ftra')", "F"),   // ſ, the long s
		od(cat, "startswith(Name,'[brac\u212a')", "J"), // K, the Kelvin sign
		od(cat, "startswith(Name,'say \"')", "K"),
		od(cat, "startswith(Name,'Say \"hello\"')", "K"),
		od(cat, "startswith(Name,'s')", "F K"),
		od(cat, "not startswith(Name,'s')", "* -F -K"),
		od(cat, "startswith(Name,'s@')", ""), // the range's end ('A') folds otherwise: LIKE decides
		wq(cat, "Name LIKE 'sa%'", "K"),
		wq(cat, "Name LIKE 'stra%'", "F"),
		wq(cat, "NOT Name LIKE 'S%'", "* -F -K"),
		wq(cat, "Name LIKE '%'", "*"),
		wq(cat, "Name LIKE ''", "O"),
		wq(cat, "Name LIKE '_'", ""),
		wq(cat, "Name LIKE '___'", "R S"),
		wq(cat, "Name LIKE '____'", "U"),
		wq(cat, "Name LIKE '%%%'", "*"),
		wq(cat, "Name LIKE 'ab[cd]'", "R S"),
		wq(cat, "Name LIKE 'ab[^c]'", "S"),
		wq(cat, "Name LIKE 'AB[C]'", "R"),
		wq(cat, "Name LIKE '[a-c]%'", "D E M R S T V"),
		wq(cat, "Name LIKE '[^a-z]%'", "G J N"),
		wq(cat, "Name LIKE '%[_]%'", "I T"),
		wq(cat, "Name LIKE 'a[%]b[_]c'", "T"),
		wq(cat, "Name LIKE 'a_b_c'", "T V"),
		wq(cat, "Name LIKE '[[]%'", "J"),
		wq(cat, "Name LIKE '%]%'", "J"),
		wq(cat, "Description LIKE '%[]]%'", "J"),
		wq(cat, `Name LIKE 'C:\\Path\\%'`, "M"),
		wq(cat, `Name LIKE '%\\%'`, "M"),
		wq(cat, `Name LIKE '%\\'`, ""),
		wq(cat, "Name LIKE '%[é]%'", "D E"),
		wq(cat, "Name LIKE 'caf_ %'", "D E"),
		wq(cat, "Name LIKE '日本%'", "G"),
		wq(cat, "Name LIKE '__ Setup'", "G"),
		wq(cat, "Name LIKE 'stra_e%'", "F"),
		wq(cat, "Name LIKE '%ß%'", "F"),
		wq(cat, "Name LIKE '% '", "N"),
		wq(cat, "Name LIKE ' %'", "N"),
		wq(cat, "Name LIKE 'padded'", ""),
		wq(cat, "Name LIKE '%[0-9]%'", "A B C H P"),
		wq(cat, "Name LIKE '%[0-9][0-9]%'", "A B C H"),
		wq(cat, "Name LIKE '%[f-a]%'", ""),
		wq(cat, "Name LIKE '[a-'", ""),
		wq(cat, "Name LIKE '[^]%'", ""),
		wq(cat, "Name LIKE '%[^a-z0-9 ]%'", "D E F G H I J K L M P Q T"),
		wq(cat, "Name LIKE '%[a-c]'", "R T U V"),
		wq(cat, "Name LIKE '[w]%[a-z]'", "A B C"),
		wq(cat, "Name LIKE '%[%]%[%]%'", ""),
		wq(cat, "Name LIKE '%[ _]%[0-9]%'", "H P"),
		wq(cat, "NOT Name LIKE '%a%'", "G I L O P"),
		wq(cat, "Name NOT LIKE '%a%'", "G I L O P"),
		wq(cat, "Description LIKE '%'", "* -C -E -H -S -V"),
		wq(cat, "NOT Description LIKE 'x%'", "* -A -C -E -H -S -V"),
		wq(cat, "'abc' LIKE 'A%'", "*"),
		wq(cat, "'abc' LIKE 'x%'", ""),
		wq(cat, "Name LIKE '%[ß]%' OR Name LIKE '%[本]%'", "F G"),
		wq(cat, "Name LIKE '%["+big.String()+"]%'", "").named("class of 300 characters"),
		wq(cat, "Name LIKE '%["+big.String()+"本]%'", "G").named("class of 301 characters"),
		wq(cat, "Name LIKE '%[^"+big.String()+"]'", "* -O").named("negated class of 300 characters"),
	}
}

func escapeCases() []Case {
	const cat = "escape"
	return []Case{
		wq(cat, `Name = 'It\'s quoted'`, "L"),
		wq(cat, `Name = "It's quoted"`, "L"),
		wq(cat, `Name = 'Say "hello"'`, "K"),
		wq(cat, `Name = "Say \"hello\""`, "K"),
		wq(cat, `Name = 'C:\\Path\\To'`, "M"),
		wq(cat, `Description = "back\\slash"`, "M"),
		wq(cat, `Name = 'x\' OR \'1\'=\'1'`, "P"),
		wq(cat, `Name = "Robert'); DROP TABLE students;--"`, "Q"),
		wq(cat, `Description = 'O\'Brien\'s'`, "I"),
		wq(cat, `Description = 'He said "hi"'`, "K"),
		od(cat, "Name eq 'It''s quoted'", "L"),
		od(cat, `Name eq 'Say "hello"'`, "K"),
		od(cat, `Name eq 'C:\Path\To'`, "M"),
		od(cat, `Description eq 'back\slash'`, "M"),
		od(cat, "Name eq 'x'' OR ''1''=''1'", "P"),
		od(cat, "Name eq 'Robert''); DROP TABLE students;--'", "Q"),
		od(cat, "Description eq 'O''Brien''s'", "I"),
		od(cat, "Name eq ''''", ""),
		od(cat, "Description eq '/* c */'", "Q"),
		od(cat, "Description eq '-- comment'", "P"),
		od(cat, "Description eq '%_'", "T"),
		od(cat, "Description eq '%'", ""),
		wqErr(cat, wqlFrom+`Name = 'C:\Path'`, errs.Invalid, `\P`, `unknown escape \P`),
		wqErr(cat, wqlFrom+`Name = 'abc\'`, errs.Invalid, "'abc", "unterminated string"),
		wqErr(cat, wqlFrom+`Name = "abc'`, errs.Invalid, `"abc`, "unterminated string"),
		odErr(cat, "Name eq 'It's'", errs.Invalid, "#3:'", "unterminated string"),
	}
}

func statementCases() []Case {
	const cat = "statement"
	return []Case{
		wqs(cat, "SELECT Name, Duration FROM SMS_TaskSequencePackage WHERE Duration = 60", "B").props("Name", "Duration"),
		wqs(cat, "select PackageID from sms_tasksequencepackage", "*").class("sms_tasksequencepackage").props("PackageID"),
		wqs(cat, "SELECT * FROM SMS_TaskSequencePackage", "*"),
		wqs(cat, "SELECT * FROM SMS_Package", "*").class("SMS_Package"),
		wqs(cat, "SELECT Name FROM SMS_Package WHERE Name LIKE 'dt-20%'", "P2 P3 P6").class("SMS_Package").props("Name"),
		wqs(cat, "  SELECT\tName\nFROM\r\nSMS_TaskSequencePackage\tWHERE\nDuration=60  ", "B").props("Name"),
		wqs(cat, "SELECT*FROM SMS_TaskSequencePackage WHERE Duration=60", "B"),
		wqs(cat, "SELECT __CLASS, Name FROM SMS_TaskSequencePackage WHERE __CLASS ISA 'SMS_PackageBaseclass'", "*").props("__CLASS", "Name"),
		wq(cat, "__CLASS ISA 'SMS_Package'", ""),
		wq(cat, "__class isa 'sms_tasksequencepackage' AND Duration = 60", "B"),
		wq(cat, "NOT __CLASS ISA 'SMS_Package'", "*"),
		wq(cat, "__CLASS ISA 'SMS_Nope'", ""),
		pkgWQ(cat, "__CLASS ISA 'SMS_TaskSequencePackage'", ""),
		pkgWQ(cat, "__CLASS ISA 'SMS_PackageBaseclass' AND DefaultImageFlags > 0", "P3 P5"),
		od(cat, "Duration eq 60", "B").class("sms_TASKSEQUENCEpackage").named("class name in any case"),
		wqs(cat, "SELECT References, Name FROM SMS_TaskSequencePackage", "*").props("References", "Name"),
	}
}

func orderCases() []Case {
	const cat = "orderby"
	asc := func(p string) store.Order { return store.Order{Property: p} }
	desc := func(p string) store.Order { return store.Order{Property: p, Desc: true} }
	by := func(c Case, o ...store.Order) Case { c.OrderBy = o; c.Ordered = true; return c }
	all := od(cat, "", "")
	pkgAll := pkgOD(cat, "", "")
	with := func(c Case, want string) Case { c.Want = want; return c }
	return []Case{
		by(with(all, "R E A"), desc("Duration")).page(0, 3, 22),
		by(with(all, "I U S T"), asc("Duration"), asc("Name")).page(0, 4, 22),
		by(with(all, "U I"), asc("Duration"), desc("Name")).page(0, 2, 22),
		by(with(all, "S T V"), asc("Duration")).page(2, 3, 22),
		by(od(cat, "Priority ne null", "C I A G U R B"), desc("Priority"), desc("Duration")),
		by(od(cat, "Priority ne null", "A G U"), desc("Priority"), desc("Duration")).page(2, 3, 7),
		by(with(all, "D E F H J K L M N O P Q S T V"), desc("Priority")).page(7, 0, 22),
		by(with(all, "D E F"), asc("Priority")).page(0, 3, 22),
		by(od(cat, "startswith(Name,'ab') or Name eq 'Zeta' or Name eq 'aXbYc'", "R S V U"), asc("Name")),
		by(od(cat, "startswith(Name,'ab') or Name eq 'Zeta' or Name eq 'aXbYc'", "U V S R"), desc("name")),
		by(od(cat, "Language ne null", "F B U R C A D G"), asc("Language"), asc("Name")),
		by(od(cat, "startswith(Name,'caf')", "D E"), asc("Name")),
		by(with(all, "V U T"), desc("SourceDate")).page(0, 3, 22),
		by(with(all, "A B"), asc("LastRefreshTime")).page(0, 2, 22),
		by(with(all, "C E H S V O"), asc("Description")).page(0, 6, 22),
		by(with(all, "A C I"), desc("IsVersionCompatible"), asc("Duration")).page(0, 3, 22),
		by(with(pkgAll, "P1 P2 P3 P4 P7 P5 P6"), asc("TransformAnalysisDate")),
		by(with(pkgAll, "P6 P5 P7 P4 P3 P2 P1"), desc("TransformAnalysisDate")),
		by(with(pkgAll, "P6 P4 P2 P1 P7 P3 P5"), asc("DefaultImageFlags")),
		by(wqs(cat, wqlFrom+"Duration < 10", "L K J"), desc("Duration")).page(0, 3, 9),
		by(od(cat, "Duration lt 10", ""), asc("Name")).page(100, 5, 9),
		by(od(cat, "Name eq 'nope'", ""), asc("Name")).page(0, 1, 0),
		by(od(cat, "Duration lt 10", "H I J K L S T U V")),
		odOrderErr(cat, errs.Invalid, "lazy", asc("Sequence")),
		odOrderErr(cat, errs.Invalid, "Colour", desc("Colour")),
		odOrderErr(cat, errs.Invalid, "SecuredScopeNames", asc("SecuredScopeNames")),
		negativeSkip(cat),
	}
}

// odOrderErr is a list whose OrderBy must be refused.
func odOrderErr(cat string, kind errs.Kind, msg string, o ...store.Order) Case {
	c := odErr(cat, "", kind, "", msg)
	c.OrderBy = o
	c.Name = "order by " + o[0].Property
	return c
}

func negativeSkip(cat string) Case {
	c := odErr(cat, "Duration gt 0", errs.Invalid, "", "negative")
	c.Skip = -1
	c.Name = "negative skip"
	return c
}
