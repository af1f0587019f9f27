package querytest

import (
	"github.com/tsprov/tsprov/internal/errs"
)

// wqlFrom starts the WQL statements of most cases.
const wqlFrom = "SELECT * FROM SMS_TaskSequencePackage WHERE "

// wqlPkg starts the WQL statements on SMS_Package.
const wqlPkg = "SELECT * FROM SMS_Package WHERE "

// od is an OData case on SMS_TaskSequencePackage.
func od(cat, filter, want string) Case {
	return Case{Cat: cat, Lang: OData, Src: filter, Want: want}
}

// wq is a WQL case: SELECT * FROM SMS_TaskSequencePackage WHERE cond.
func wq(cat, cond, want string) Case {
	return Case{Cat: cat, Lang: WQL, Src: wqlFrom + cond, Want: want}
}

// wqs is a WQL case given as a whole statement.
func wqs(cat, stmt, want string) Case {
	return Case{Cat: cat, Lang: WQL, Src: stmt, Want: want}
}

// pkgOD and pkgWQ are cases on SMS_Package.
func pkgOD(cat, filter, want string) Case {
	return Case{Cat: cat, Lang: OData, Src: filter, Want: want, Class: "SMS_Package"}
}

func pkgWQ(cat, cond, want string) Case {
	return Case{Cat: cat, Lang: WQL, Src: wqlPkg + cond, Want: want, Class: "SMS_Package"}
}

// odErr and wqErr are cases that must fail.
func odErr(cat, filter string, kind errs.Kind, at, msg string) Case {
	return Case{Cat: cat, Lang: OData, Src: filter, Err: &ErrWant{Kind: kind, At: at, Msg: msg}}
}

func wqErr(cat, stmt string, kind errs.Kind, at, msg string) Case {
	return Case{Cat: cat, Lang: WQL, Src: stmt, Err: &ErrWant{Kind: kind, At: at, Msg: msg}}
}

func (c Case) named(name string) Case     { c.Name = name; return c }
func (c Case) class(name string) Case     { c.Class = name; return c }
func (c Case) props(names ...string) Case { c.Props = names; return c }
func (c Case) orInvalid() Case            { c.OrInvalid = true; return c }
func (c Case) page(skip, top, total int) Case {
	c.Skip, c.Top, c.Total = skip, top, total
	return c
}

// allCases is the whole suite.
func allCases() []Case {
	var all []Case
	for _, part := range [][]Case{
		stringCases(),
		caseFoldCases(),
		integerCases(),
		booleanCases(),
		dateTimeCases(),
		nullCases(),
		wqlNullCases(),
		logicCases(),
		inCases(),
		functionCases(),
		lazyCases(),
		likeCases(),
		escapeCases(),
		statementCases(),
		orderCases(),
		odataErrorCases(),
		wqlErrorCases(),
		injectionCases(),
	} {
		all = append(all, part...)
	}
	return all
}
